//! `flake.lock` (version 7): a graph of locked inputs, read and written exactly as
//! CppNix 2.8 does.
//!
//! The file's node keys are not identities: 2.8 reads nodes into a graph (a
//! node reached from two places is one node) and, when writing, renames every
//! node by a depth-first walk from the root, visiting inputs in name order and
//! giving each new node its input name, suffixed `_2`, `_3`, … on collision.
//! So [`LockFile`] stores a graph (nodes in a `Vec`, edges by index or as a
//! follows path) and recomputes keys on output; two lock files are equal when
//! their JSON is. Output is nlohmann's `dump(2)` plus a newline ([`crate::json`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde_json::{Map, Value};

use crate::attrs::{attrs_to_json, attrs_to_json_string, json_to_attrs};
use crate::error::{bail, Error, Result};
use crate::flakeref::FlakeRef;

/// Index of a node in a [`LockFile`]; the root is [`LockFile::ROOT`].
pub type NodeId = usize;

/// An input path such as `["dep1", "dep2"]` (printed `dep1/dep2`).
pub type InputPath = Vec<String>;

/// Where an input of a node points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edge {
    /// Another node of this lock file.
    Node(NodeId),
    /// `follows`: a path from the root, resolved on lookup.
    Follows(InputPath),
}

/// What a non-root node records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockedNode {
    /// The reference after fetching (`locked`).
    pub locked: FlakeRef,
    /// The reference as written in `flake.nix` (`original`).
    pub original: FlakeRef,
    /// False for `flake = false` inputs.
    pub is_flake: bool,
}

/// A node: its inputs and, except for the root, its lock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Node {
    /// Input name → edge, in name order.
    pub inputs: BTreeMap<String, Edge>,
    /// `None` for the root.
    pub locked: Option<LockedNode>,
}

/// A lock file.
#[derive(Clone, Debug)]
pub struct LockFile {
    nodes: Vec<Node>,
}

impl Default for LockFile {
    fn default() -> Self {
        LockFile { nodes: vec![Node::default()] }
    }
}

impl PartialEq for LockFile {
    /// Same JSON (2.8's `operator==`).
    fn eq(&self, other: &Self) -> bool {
        self.to_json() == other.to_json()
    }
}

impl LockFile {
    /// The root node's id.
    pub const ROOT: NodeId = 0;

    /// A lock file with an empty root.
    pub fn new() -> LockFile {
        LockFile::default()
    }

    /// Parses lock-file text; `path` only appears in error messages.
    pub fn parse(text: &str, path: &str) -> Result<LockFile> {
        let json: Value =
            serde_json::from_str(text).map_err(|e| Error::new(format!("error parsing lock file '{path}': {e}")))?;
        LockFile::from_json(&json, path)
    }

    /// Reads `path`; a missing file is an empty lock file.
    pub fn read(path: &Path) -> Result<LockFile> {
        match std::fs::read_to_string(path) {
            Ok(t) => LockFile::parse(&t, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LockFile::new()),
            Err(e) => Err(Error::from(e).prefixed(&format!("reading lock file '{}': ", path.display()))),
        }
    }

    /// Builds the graph from lock JSON (versions 5 to 7).
    pub fn from_json(json: &Value, path: &str) -> Result<LockFile> {
        let version = json.get("version").and_then(Value::as_i64).unwrap_or(0);
        if !(5..=7).contains(&version) {
            bail!("lock file '{path}' has unsupported version {version}");
        }
        let empty = Map::new();
        let nodes_json = json.get("nodes").and_then(Value::as_object).unwrap_or(&empty);
        let root_key = json.get("root").and_then(Value::as_str).unwrap_or("root");
        let mut lf = LockFile::new();
        let mut ids: HashMap<String, NodeId> = HashMap::from([(root_key.to_owned(), LockFile::ROOT)]);
        let mut todo = vec![(LockFile::ROOT, nodes_json.get(root_key).cloned().unwrap_or(Value::Null))];
        while let Some((id, node_json)) = todo.pop() {
            let Some(inputs) = node_json.get("inputs").and_then(Value::as_object) else {
                continue;
            };
            for (name, v) in inputs {
                let edge = if let Some(arr) = v.as_array() {
                    Edge::Follows(arr.iter().map(|x| x.as_str().unwrap_or_default().to_owned()).collect())
                } else {
                    let key = v
                        .as_str()
                        .ok_or_else(|| Error::new(format!("lock file '{path}' has an invalid input '{name}'")))?;
                    let child = match ids.get(key) {
                        Some(&c) => c,
                        None => {
                            let Some(j) = nodes_json.get(key) else {
                                bail!("lock file references missing node '{key}'")
                            };
                            let c = lf.add_node(parse_locked_node(j)?);
                            ids.insert(key.to_owned(), c);
                            todo.push((c, j.clone()));
                            c
                        }
                    };
                    if child == LockFile::ROOT {
                        bail!("lock file contains cycle to root node");
                    }
                    Edge::Node(child)
                };
                lf.nodes[id].inputs.insert(name.clone(), edge);
            }
        }
        Ok(lf)
    }

    /// The node with this id (panics never: unknown ids give the root).
    pub fn node(&self, id: NodeId) -> &Node {
        self.nodes.get(id).unwrap_or(&self.nodes[0])
    }

    /// Adds an unattached node and returns its id.
    pub fn add_node(&mut self, node: LockedNode) -> NodeId {
        self.nodes.push(Node { inputs: BTreeMap::new(), locked: Some(node) });
        self.nodes.len() - 1
    }

    /// Sets input `name` of node `parent`.
    pub fn set_input(&mut self, parent: NodeId, name: &str, edge: Edge) {
        if let Some(n) = self.nodes.get_mut(parent) {
            n.inputs.insert(name.to_owned(), edge);
        }
    }

    /// Follows `path` from the root (follows edges resolved, depth-limited against cycles).
    pub fn find_input(&self, path: &[String]) -> Option<NodeId> {
        self.find_input_depth(path, 0)
    }

    fn find_input_depth(&self, path: &[String], depth: usize) -> Option<NodeId> {
        if depth > 100 {
            return None;
        }
        let mut pos = LockFile::ROOT;
        for elem in path {
            pos = match self.node(pos).inputs.get(elem)? {
                Edge::Node(n) => *n,
                Edge::Follows(f) => self.find_input_depth(f, depth + 1)?,
            };
        }
        Some(pos)
    }

    /// Every input path reachable from the root (each node expanded once) with its edge.
    pub fn all_inputs(&self) -> BTreeMap<InputPath, Edge> {
        let mut res = BTreeMap::new();
        let mut done = HashSet::new();
        self.collect_inputs(&[], LockFile::ROOT, &mut done, &mut res);
        res
    }

    fn collect_inputs(
        &self,
        prefix: &[String],
        id: NodeId,
        done: &mut HashSet<NodeId>,
        res: &mut BTreeMap<InputPath, Edge>,
    ) {
        if !done.insert(id) {
            return;
        }
        for (name, edge) in &self.node(id).inputs {
            let mut p = prefix.to_vec();
            p.push(name.clone());
            res.entry(p.clone()).or_insert_with(|| edge.clone());
            if let Edge::Node(c) = edge {
                self.collect_inputs(&p, *c, done, res);
            }
        }
    }

    /// True if every node's locked reference is locked (has a `rev` or `narHash`).
    pub fn is_immutable(&self) -> bool {
        let reachable: HashSet<NodeId> = self
            .all_inputs()
            .values()
            .filter_map(|e| match e {
                Edge::Node(n) => Some(*n),
                Edge::Follows(_) => None,
            })
            .collect();
        reachable.iter().all(|&n| self.node(n).locked.as_ref().is_some_and(|l| l.locked.input.is_locked()))
    }

    /// The lock JSON with keys assigned as 2.8 assigns them.
    pub fn to_json(&self) -> Value {
        let mut nodes = Map::new();
        let mut keys_of: HashMap<NodeId, String> = HashMap::new();
        let mut used: HashSet<String> = HashSet::new();
        let root = self.dump_node("root".to_owned(), LockFile::ROOT, &mut nodes, &mut keys_of, &mut used);
        let mut json = Map::new();
        json.insert("nodes".into(), Value::Object(nodes));
        json.insert("root".into(), Value::String(root));
        json.insert("version".into(), Value::from(7));
        Value::Object(json)
    }

    fn dump_node(
        &self,
        mut key: String,
        id: NodeId,
        nodes: &mut Map<String, Value>,
        keys_of: &mut HashMap<NodeId, String>,
        used: &mut HashSet<String>,
    ) -> String {
        if let Some(k) = keys_of.get(&id) {
            return k.clone();
        }
        if !used.insert(key.clone()) {
            key = (2..).map(|n| format!("{key}_{n}")).find(|k| !used.contains(k)).unwrap_or_default();
            used.insert(key.clone());
        }
        keys_of.insert(id, key.clone());
        let node = self.node(id);
        let mut n = Map::new();
        if !node.inputs.is_empty() {
            let mut inputs = Map::new();
            for (name, edge) in &node.inputs {
                let v = match edge {
                    Edge::Node(c) => Value::String(self.dump_node(name.clone(), *c, nodes, keys_of, used)),
                    Edge::Follows(p) => Value::Array(p.iter().map(|s| Value::String(s.clone())).collect()),
                };
                inputs.insert(name.clone(), v);
            }
            n.insert("inputs".into(), Value::Object(inputs));
        }
        if let Some(l) = &node.locked {
            n.insert("original".into(), Value::Object(attrs_to_json(&l.original.to_attrs())));
            n.insert("locked".into(), Value::Object(attrs_to_json(&l.locked.to_attrs())));
            if !l.is_flake {
                n.insert("flake".into(), Value::Bool(false));
            }
        }
        nodes.insert(key.clone(), Value::Object(n));
        key
    }

    /// The file contents: `dump(2)` of [`LockFile::to_json`] and a final newline.
    pub fn to_file_contents(&self) -> String {
        let mut s = crate::json::to_pretty(&self.to_json(), 2);
        s.push('\n');
        s
    }

    /// Writes the file atomically (a temporary file in the same directory, then rename).
    pub fn write(&self, path: &Path) -> Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(".flake.lock.tmp-{}", std::process::id()));
        let res = std::fs::write(&tmp, self.to_file_contents()).and_then(|()| std::fs::rename(&tmp, path));
        if res.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        res.map_err(|e| Error::from(e).prefixed(&format!("writing lock file '{}': ", path.display())))
    }

    /// The change summary 2.8 prints (`• Added input 'dep1':` …), sorted by input path.
    /// With `color`, the reference's ANSI codes are included (they are stripped off a tty).
    pub fn diff(old: &LockFile, new: &LockFile, color: bool) -> String {
        let (green, red, bold, normal) =
            if color { ("\x1b[32;1m", "\x1b[31;1m", "\x1b[1m", "\x1b[0m") } else { ("", "", "", "") };
        let old_flat = old.all_inputs();
        let new_flat = new.all_inputs();
        let mut keys: Vec<&InputPath> = old_flat.keys().chain(new_flat.keys()).collect();
        keys.sort();
        keys.dedup();
        let mut res = String::new();
        for k in keys {
            let p = k.join("/");
            match (old_flat.get(k), new_flat.get(k)) {
                (None, Some(e)) => {
                    res.push_str(&format!("• {green}Added input '{p}':{normal}\n    {}\n", new.show_edge(e)))
                }
                (Some(_), None) => res.push_str(&format!("• {red}Removed input '{p}'{normal}\n")),
                (Some(a), Some(b)) if !old.edge_equals(a, new, b) => res.push_str(&format!(
                    "• {bold}Updated input '{p}':{normal}\n    {}\n  → {}\n",
                    old.show_edge(a),
                    new.show_edge(b)
                )),
                _ => {}
            }
        }
        res
    }

    fn edge_equals(&self, a: &Edge, other: &LockFile, b: &Edge) -> bool {
        match (a, b) {
            (Edge::Node(x), Edge::Node(y)) => {
                self.node(*x).locked.as_ref().map(|l| &l.locked) == other.node(*y).locked.as_ref().map(|l| &l.locked)
            }
            (Edge::Follows(x), Edge::Follows(y)) => x == y,
            _ => false,
        }
    }

    fn show_edge(&self, e: &Edge) -> String {
        match e {
            Edge::Node(n) => match &self.node(*n).locked {
                Some(l) => {
                    let mut s = format!("'{}'", l.locked);
                    if let Ok(Some(t)) = l.locked.input.get_last_modified() {
                        s.push_str(&format!(" ({})", crate::source_info::format_date(t)));
                    }
                    s
                }
                None => "'root'".to_owned(),
            },
            Edge::Follows(p) => format!("follows '{}'", p.join("/")),
        }
    }
}

fn parse_locked_node(j: &Value) -> Result<LockedNode> {
    let get = |attr: &str, info: Option<&str>| -> Result<FlakeRef> {
        let Some(v) = j.get(attr) else { bail!("attribute '{attr}' missing in lock file") };
        let mut attrs = json_to_attrs(v)?;
        if let Some(extra) = info.and_then(|i| j.get(i)) {
            attrs.extend(json_to_attrs(extra)?);
        }
        FlakeRef::from_attrs(&attrs)
    };
    let locked = get("locked", Some("info"))?;
    let original = get("original", None)?;
    if !locked.input.is_locked() {
        bail!("lockfile contains mutable lock '{}'", attrs_to_json_string(locked.input.attrs()));
    }
    let is_flake = j.get("flake").and_then(Value::as_bool).unwrap_or(true);
    Ok(LockedNode { locked, original, is_flake })
}

#[cfg(test)]
#[path = "lockfile_tests.rs"]
mod tests;
