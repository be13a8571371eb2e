//! Grammar-aware generation of random Nix expressions.
//!
//! Byte mutation of real files mostly produces parse errors; this generator
//! produces programs that parse (or almost do) and reach the evaluator:
//! let/rec/with/inherit, lambdas with formals, defaults and `@`-patterns,
//! attribute paths with dynamic and string keys, every operator mixed without
//! parentheses (so precedence and associativity are exercised), strings and
//! indented strings with interpolation and escapes, paths, search paths,
//! URIs, if/assert, calls of the `builtins.*` of the binary under test with
//! arguments of plausible and wrong types, and a set of known-hard shapes:
//! unbounded recursion, cyclic sets, deep nesting, long operator chains and
//! large (bounded) lists. The output is text; nothing guarantees it is
//! well-typed, which is the point.

use super::rng::Rng;

/// Names used for variables; `or` and `__curPos`-like names are in on purpose.
const NAMES: &[&str] = &["x", "y", "z", "a", "b", "f", "g", "self", "s", "n", "xs", "_x", "a'", "__a"];
/// Builtins that are also in scope without `builtins.`.
const GLOBALS: &[&str] = &[
    "abort",
    "baseNameOf",
    "derivation",
    "dirOf",
    "import",
    "isNull",
    "map",
    "placeholder",
    "removeAttrs",
    "throw",
    "toString",
];
/// Attribute names (also used as string keys).
const ATTRS: &[&str] = &["a", "b", "c", "x", "foo", "bar", "outPath", "__toString", "__functor", "type", "name", "or"];

/// Builtins that must never be generated: they reach the network or the
/// outside world, or are impure in ways that make runs not reproducible.
const FORBIDDEN: &[&str] =
    &["fetchurl", "fetchTarball", "fetchGit", "fetchMercurial", "fetchTree", "fetchClosure", "exec", "importNative"];

/// Builtins known to take this many (curried) arguments; others get 1-3.
const ARITY: &[(&str, usize)] = &[
    ("add", 2),
    ("all", 2),
    ("any", 2),
    ("attrNames", 1),
    ("attrValues", 1),
    ("bitAnd", 2),
    ("bitOr", 2),
    ("bitXor", 2),
    ("catAttrs", 2),
    ("compareVersions", 2),
    ("concatLists", 1),
    ("concatMap", 2),
    ("concatStringsSep", 2),
    ("deepSeq", 2),
    ("div", 2),
    ("elem", 2),
    ("elemAt", 2),
    ("filter", 2),
    ("foldl'", 3),
    ("fromJSON", 1),
    ("functionArgs", 1),
    ("genList", 2),
    ("genericClosure", 1),
    ("getAttr", 2),
    ("groupBy", 2),
    ("hasAttr", 2),
    ("hashString", 2),
    ("head", 1),
    ("intersectAttrs", 2),
    ("isAttrs", 1),
    ("length", 1),
    ("lessThan", 2),
    ("listToAttrs", 1),
    ("map", 2),
    ("mapAttrs", 2),
    ("match", 2),
    ("mul", 2),
    ("parseDrvName", 1),
    ("partition", 2),
    ("removeAttrs", 2),
    ("replaceStrings", 3),
    ("seq", 2),
    ("sort", 2),
    ("split", 2),
    ("splitVersion", 1),
    ("stringLength", 1),
    ("sub", 2),
    ("substring", 3),
    ("tail", 1),
    ("toJSON", 1),
    ("toString", 1),
    ("toXML", 1),
    ("tryEval", 1),
    ("typeOf", 1),
    ("zipAttrsWith", 2),
];

/// Fallback when the binary cannot list its builtins.
pub const DEFAULT_BUILTINS: &[&str] = &[
    "abort",
    "add",
    "all",
    "any",
    "attrNames",
    "attrValues",
    "baseNameOf",
    "bitAnd",
    "catAttrs",
    "compareVersions",
    "concatLists",
    "concatMap",
    "concatStringsSep",
    "deepSeq",
    "derivation",
    "dirOf",
    "div",
    "elem",
    "elemAt",
    "filter",
    "foldl'",
    "fromJSON",
    "functionArgs",
    "genList",
    "genericClosure",
    "getAttr",
    "groupBy",
    "hasAttr",
    "hashString",
    "head",
    "intersectAttrs",
    "isAttrs",
    "length",
    "lessThan",
    "listToAttrs",
    "map",
    "mapAttrs",
    "match",
    "mul",
    "parseDrvName",
    "partition",
    "removeAttrs",
    "replaceStrings",
    "seq",
    "sort",
    "split",
    "stringLength",
    "sub",
    "substring",
    "tail",
    "throw",
    "toFile",
    "toJSON",
    "toString",
    "toXML",
    "tryEval",
    "typeOf",
    "unsafeGetAttrPos",
    "zipAttrsWith",
];

/// Whether the generator may call this builtin.
pub fn allowed_builtin(name: &str) -> bool {
    !FORBIDDEN.contains(&name) && !name.starts_with("fetch")
}

/// Pieces of string literals.
const INDENTED_PIECES: &[&str] = &["'''", "''$", "''\\n", "''\\", "\n  ", "\t", "$${x}"];
const STRING_ESCAPES: &[&str] = &["\\\"", "\\${", "\\n", "\\\\", "$${x}", "\\u", "\\"];
const STRING_TEXT: &[&str] = &["text", " ", "  x\n", "🎉", "a-b"];

const BINOPS: &[&str] = &["+", "-", "*", "/", "++", "//", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "->"];

/// Generates one program per call; `builtins` are the names to call.
pub struct Generator<'a> {
    rng: &'a mut Rng,
    builtins: &'a [String],
    /// Variables bound around the current point.
    scope: Vec<String>,
    /// How many `with` scopes surround the current point (free names are
    /// then fine; outside one they are a parse-time error).
    with_depth: usize,
    /// Remaining number of nodes; generation bottoms out when it is spent.
    budget: usize,
}

impl<'a> Generator<'a> {
    pub fn new(rng: &'a mut Rng, builtins: &'a [String]) -> Self {
        Generator { rng, builtins, scope: Vec::new(), with_depth: 0, budget: 0 }
    }

    /// A whole program: mostly a random expression, sometimes one of the
    /// known-hard shapes, sometimes both combined.
    pub fn program(&mut self) -> String {
        self.budget = self.rng.range(5, 120);
        self.scope.clear();
        self.with_depth = 0;
        let depth = self.rng.range(2, 7);
        match self.rng.below(10) {
            0 | 1 => self.hard_shape(),
            2 => {
                let hard = self.hard_shape();
                self.scope.push("hard".into());
                let e = self.expr(depth);
                format!("let hard = {hard}; in [ ({e}) hard ]")
            }
            _ => self.expr(depth),
        }
    }

    fn spend(&mut self) -> bool {
        if self.budget == 0 {
            false
        } else {
            self.budget -= 1;
            true
        }
    }

    /// A variable reference: a bound name, a free one under `with`, rarely
    /// an undefined one (a parse-time error), otherwise a constant.
    fn name(&mut self) -> String {
        if let Some(n) = self.bound_name() {
            n
        } else if self.rng.one_in(40) {
            (*self.rng.pick(NAMES)).to_string()
        } else {
            (*self.rng.pick(&["true", "null", "builtins", "1", "\"s\""])).to_string()
        }
    }

    /// A name that is in scope (or may be, under `with`), if there is one.
    fn bound_name(&mut self) -> Option<String> {
        if !self.scope.is_empty() && !self.rng.one_in(8) {
            let i = self.rng.below(self.scope.len());
            Some(self.scope[i].clone())
        } else if self.with_depth > 0 {
            Some((*self.rng.pick(NAMES)).to_string())
        } else {
            None
        }
    }

    fn fresh_name(&mut self) -> String {
        (*self.rng.pick(NAMES)).to_string()
    }

    fn ws(&mut self) -> &'static str {
        match self.rng.below(30) {
            0 => " # c\n",
            1 => " /* c */ ",
            2 => "\n",
            _ => " ",
        }
    }

    /// An expression of at most `depth` levels.
    pub fn expr(&mut self, depth: usize) -> String {
        if depth == 0 || !self.spend() {
            return self.atom();
        }
        let d = depth - 1;
        match self.rng.weighted(&[6, 4, 4, 3, 2, 6, 5, 4, 3, 2, 5, 3, 2, 2, 1]) {
            0 => self.atom(),
            1 => self.let_in(d),
            2 => self.attrset(d),
            3 => self.lambda(d),
            4 => {
                let scope = self.expr(d);
                self.with_depth += 1;
                let body = self.expr(d);
                self.with_depth -= 1;
                format!("with {scope};{}{body}", self.ws())
            }
            5 => self.binop_chain(d),
            6 => self.call(d),
            7 => self.select(d),
            8 => {
                let (c, t, e) = (self.expr(d), self.expr(d), self.expr(d));
                format!("if {c} then {t} else {e}")
            }
            9 => {
                let (c, b) = (self.expr(d), self.expr(d));
                format!("assert {c};{}{b}", self.ws())
            }
            10 => self.list(d),
            11 => self.string(d),
            12 => {
                let e = self.operand(d);
                match self.rng.below(3) {
                    0 => format!("!{e}"),
                    1 => format!("-{e}"),
                    _ => format!("- -{e}"),
                }
            }
            13 => self.builtin_call(d),
            _ => self.hard_shape(),
        }
    }

    /// An operand: an atom, a selection or a parenthesised expression.
    fn operand(&mut self, depth: usize) -> String {
        match self.rng.below(5) {
            0 | 1 => self.atom(),
            2 if depth > 0 => self.select(depth - 1),
            _ => format!("({})", self.expr(depth)),
        }
    }

    fn atom(&mut self) -> String {
        match self.rng.weighted(&[5, 3, 1, 4, 2, 2, 1, 1, 2, 1, 1]) {
            0 => self.name(),
            1 => self.int(),
            2 => self.float(),
            3 => self.simple_string(),
            4 => (*self.rng.pick(&["true", "false", "null"])).to_string(),
            5 => {
                let b = self.builtin_name();
                if GLOBALS.contains(&b.as_str()) && self.rng.one_in(2) {
                    b
                } else {
                    format!("builtins.{b}")
                }
            }
            6 => self.path(),
            7 => (*self.rng.pick(&["<nixpkgs>", "<x>", "<x/y/z>", "<nix/fetchurl.nix>", "<a.b>"])).to_string(),
            8 => (*self.rng.pick(&["{ }", "[ ]", "\"\"", "''''", "(x: x)", "rec { }"])).to_string(),
            9 => (*self.rng.pick(&["http://example.org/x?y=1", "https://a.b/c", "mailto:a@b", "a:b"])).to_string(),
            _ => (*self.rng.pick(&["__curPos", "builtins", "import", "__nixPath", "derivation", "builtins.__curPos"]))
                .to_string(),
        }
    }

    fn builtin_name(&mut self) -> String {
        if self.builtins.is_empty() {
            return "typeOf".to_string();
        }
        self.builtins[self.rng.below(self.builtins.len())].clone()
    }

    fn int(&mut self) -> String {
        match self.rng.below(8) {
            0 if self.rng.one_in(8) => "9223372036854775808".into(), // overflows: an error, not a crash
            0 => "9223372036854775807".into(),
            2 => (-(self.rng.below(1000) as i64)).to_string(),
            3 => "0".into(),
            4 => "00012".into(),
            5 => self.rng.range(1000, 1_000_000).to_string(),
            _ => self.rng.below(10).to_string(),
        }
    }

    fn float(&mut self) -> String {
        (*self.rng.pick(&["1.5", "0.0", ".5", "1.0e308", "1.0e309", "2.5e-3", "1.", "3.14E2", "0.1e-400", "1e3"]))
            .to_string()
    }

    fn path(&mut self) -> String {
        let p = *self.rng.pick(&[
            "./a",
            "./.",
            "../b/c",
            "/x/y",
            "~/z",
            "a/b",
            "./a.nix",
            "./a/${\"b\"}/c",
            "./x${y}",
            "/etc/passwd",
        ]);
        p.to_string()
    }

    fn simple_string(&mut self) -> String {
        let body = *self.rng.pick(&["", "a", "hello world", "\\n\\t\\r\\\\\\\"\\$", "$", "$$", "${", "ü€😀", "%s"]);
        if body == "${" {
            "\"\\${\"".to_string()
        } else {
            format!("\"{body}\"")
        }
    }

    fn string(&mut self, depth: usize) -> String {
        let parts = self.rng.range(0, 4);
        let indented = self.rng.one_in(2);
        let mut s = String::from(if indented { "''" } else { "\"" });
        for _ in 0..parts {
            match self.rng.below(6) {
                0 | 1 => {
                    let e = self.expr(depth);
                    s.push_str(&format!("${{{e}}}"));
                }
                2 if indented => {
                    let piece = *self.rng.pick(INDENTED_PIECES);
                    s.push_str(piece)
                }
                2 => {
                    let piece = *self.rng.pick(STRING_ESCAPES);
                    s.push_str(piece)
                }
                3 => s.push('$'),
                _ => {
                    let piece = *self.rng.pick(STRING_TEXT);
                    s.push_str(piece)
                }
            }
        }
        s.push_str(if indented { "''" } else { "\"" });
        s
    }

    fn attr_name(&mut self, depth: usize) -> String {
        match self.rng.below(8) {
            0 => format!("\"{}\"", self.rng.pick(ATTRS)),
            1 => {
                let e = self.expr(depth.min(1));
                format!("${{{e}}}")
            }
            2 => format!("\"${{{}}}\"", self.simple_string()),
            _ => (*self.rng.pick(ATTRS)).to_string(),
        }
    }

    fn attr_path(&mut self, depth: usize) -> String {
        let n = self.rng.range(1, 3);
        (0..n).map(|_| self.attr_name(depth)).collect::<Vec<_>>().join(".")
    }

    /// Bindings of a set or `let`; `used` holds the names bound so far in
    /// the group: a static name is bound once (twice is a parse-time error,
    /// generated only rarely).
    fn bindings(&mut self, depth: usize, allow_dynamic: bool, used: &mut Vec<String>) -> String {
        let n = self.rng.range(0, 4);
        let mut out = String::new();
        for _ in 0..n {
            match self.rng.below(6) {
                0 => {
                    let names: Vec<String> = (0..self.rng.range(1, 3)).filter_map(|_| self.bound_name()).collect();
                    let names: Vec<String> = names.into_iter().filter(|n| self.claim(used, n)).collect();
                    if !names.is_empty() {
                        out.push_str(&format!("inherit {}; ", names.join(" ")));
                    }
                }
                1 => {
                    let from = self.operand(depth);
                    // Dynamic names are a parse-time error in inherit.
                    let mut names = Vec::new();
                    for _ in 0..self.rng.range(0, 3) {
                        let n = self.attr_name(0);
                        if !n.contains('$') || self.rng.one_in(30) {
                            names.push(n);
                        }
                    }
                    let names: Vec<String> = names.into_iter().filter(|n| self.claim(used, n)).collect();
                    out.push_str(&format!("inherit ({from}) {}; ", names.join(" ")));
                }
                _ => {
                    let path = if allow_dynamic { self.attr_path(depth) } else { self.fresh_name() };
                    let first = path.split('.').next().unwrap_or("").to_string();
                    let nested = path.contains('.');
                    let dynamic = first.starts_with('$');
                    // `a.b = 1; a.c = 2;` merge; `a.b` twice does not.
                    let merges = nested && used.contains(&format!("{first}."));
                    let fresh = if merges { self.claim(used, &path) } else { dynamic || self.claim(used, &first) };
                    if !fresh {
                        continue;
                    }
                    if nested {
                        used.push(format!("{first}."));
                    }
                    let v = self.expr(depth);
                    out.push_str(&format!("{path} = {v};{}", self.ws()));
                }
            }
        }
        out
    }

    /// Mark `name` bound in a group; false if it already is (unless this is
    /// one of the rare deliberate duplicates).
    fn claim(&mut self, used: &mut Vec<String>, name: &str) -> bool {
        let name = name.trim_matches('"').to_string();
        if used.contains(&name) && !self.rng.one_in(50) {
            return false;
        }
        used.push(name);
        true
    }

    fn let_in(&mut self, depth: usize) -> String {
        let mut names: Vec<String> = (0..self.rng.range(1, 3)).map(|_| self.fresh_name()).collect();
        names.dedup();
        let mark = self.scope.len();
        self.scope.extend(names.iter().cloned());
        let mut binds = String::new();
        for n in &names {
            let v = self.expr(depth);
            binds.push_str(&format!("{n} = {v}; "));
        }
        let mut used = names.clone();
        binds.push_str(&self.bindings(depth, false, &mut used));
        let body = self.expr(depth);
        self.scope.truncate(mark);
        if self.rng.one_in(10) {
            format!("let {{ {binds} body = {body}; }}")
        } else {
            format!("let {binds}in{}{body}", self.ws())
        }
    }

    fn attrset(&mut self, depth: usize) -> String {
        if !self.rng.one_in(3) {
            let b = self.bindings(depth, true, &mut Vec::new());
            return format!("{{ {b}}}");
        }
        // rec: the names bound first, so that every value can refer to them.
        let mut names: Vec<String> = (0..self.rng.range(1, 3)).map(|_| (*self.rng.pick(ATTRS)).to_string()).collect();
        names.sort();
        names.dedup();
        names.retain(|n| n != "or");
        let mark = self.scope.len();
        self.scope.extend(names.iter().cloned());
        let mut b = String::new();
        for n in &names {
            let v = self.expr(depth);
            b.push_str(&format!("{n} = {v}; "));
        }
        let mut used = names.clone();
        b.push_str(&self.bindings(depth, true, &mut used));
        self.scope.truncate(mark);
        format!("rec {{ {b}}}")
    }

    fn lambda(&mut self, depth: usize) -> String {
        let mark = self.scope.len();
        let head = match self.rng.below(4) {
            0 | 1 => {
                let n = self.fresh_name();
                self.scope.push(n.clone());
                format!("{n}:")
            }
            _ => {
                let mut formals = Vec::new();
                let mut names: Vec<String> = Vec::new();
                for _ in 0..self.rng.range(0, 3) {
                    let n = self.fresh_name();
                    if names.contains(&n) && !self.rng.one_in(30) {
                        continue;
                    }
                    names.push(n.clone());
                    self.scope.push(n.clone());
                    if self.rng.one_in(2) {
                        let d = self.expr(depth.min(2));
                        formals.push(format!("{n} ? {d}"));
                    } else {
                        formals.push(n);
                    }
                }
                if self.rng.one_in(2) {
                    formals.push("...".into());
                }
                let set = format!("{{ {} }}", formals.join(", "));
                let mut at_name = self.fresh_name();
                while names.contains(&at_name) && !self.rng.one_in(30) {
                    at_name = self.fresh_name();
                }
                match self.rng.below(3) {
                    0 => {
                        let n = at_name.clone();
                        self.scope.push(n.clone());
                        format!("{n} @ {set}:")
                    }
                    1 => {
                        let n = at_name;
                        self.scope.push(n.clone());
                        format!("{set}@{n}:")
                    }
                    _ => format!("{set}:"),
                }
            }
        };
        let body = self.expr(depth);
        self.scope.truncate(mark);
        format!("{head} {body}")
    }

    fn binop_chain(&mut self, depth: usize) -> String {
        let n = self.rng.range(1, 4);
        let mut s = self.operand(depth);
        // Comparisons do not associate: `a < b < c` is a syntax error,
        // generated only rarely.
        let (mut relational, mut equality) = (false, false);
        for _ in 0..n {
            let mut op = *self.rng.pick(BINOPS);
            let rel = ["<", "<=", ">", ">="].contains(&op);
            let eq = ["==", "!="].contains(&op);
            if ((rel && relational) || (eq && equality)) && !self.rng.one_in(20) {
                op = "+";
            }
            relational |= rel;
            equality |= eq;
            let rhs = self.operand(depth);
            s = format!("{s} {op} {rhs}");
        }
        if self.rng.one_in(6) {
            let path = self.attr_path(0);
            s = format!("{s} ? {path}");
        }
        s
    }

    fn call(&mut self, depth: usize) -> String {
        let f = match self.rng.below(3) {
            0 => self.name(),
            1 => format!("({})", self.lambda(depth)),
            _ => self.operand(depth),
        };
        let args: Vec<String> = (0..self.rng.range(1, 3)).map(|_| self.operand(depth)).collect();
        format!("{f} {}", args.join(" "))
    }

    fn select(&mut self, depth: usize) -> String {
        let mut e = self.operand(depth);
        // `1.a` would lex as the float `1.` and a name, `a:b.c` as one URI.
        if e.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') || e.contains(':') && !e.starts_with('(')
        {
            e = format!("({e})");
        }
        let path = self.attr_path(depth);
        if self.rng.one_in(3) {
            let d = self.operand(depth);
            format!("{e}.{path} or {d}")
        } else {
            format!("{e}.{path}")
        }
    }

    fn list(&mut self, depth: usize) -> String {
        let items: Vec<String> = (0..self.rng.range(0, 4)).map(|_| self.operand(depth)).collect();
        format!("[ {} ]", items.join(" "))
    }

    /// An argument of a plausible or a deliberately wrong type.
    fn argument(&mut self, depth: usize) -> String {
        match self.rng.below(10) {
            0 => "(x: x)".into(),
            1 => "(a: b: a)".into(),
            2 => "[ 1 \"a\" { } ]".into(),
            3 => "{ a = 1; b = \"x\"; }".into(),
            4 => "\"a.b-1.2\"".into(),
            5 => "(x: y: x < y)".into(),
            6 => "\"(a)(b*)\"".into(),
            7 => self.int(),
            _ => self.operand(depth),
        }
    }

    fn builtin_call(&mut self, depth: usize) -> String {
        let name = self.builtin_name();
        let arity = ARITY.iter().find(|(n, _)| *n == name).map(|&(_, a)| a).unwrap_or_else(|| self.rng.range(1, 3));
        let arity = if self.rng.one_in(8) { self.rng.below(arity + 2) } else { arity };
        let args: Vec<String> = (0..arity).map(|_| self.argument(depth)).collect();
        let call = format!("builtins.{name} {}", args.join(" "));
        if self.rng.one_in(3) {
            format!("builtins.tryEval ({call})")
        } else {
            call
        }
    }

    /// Programs that stress recursion, cycles, nesting and size.
    pub fn hard_shape(&mut self) -> String {
        let n = [10usize, 100, 1000, 10_000, 100_000][self.rng.below(5)];
        match self.rng.below(28) {
            0 => "let f = x: f x; in f 1".into(),
            1 => "let x = x; in x".into(),
            2 => "rec { a = b; b = a; }".into(),
            3 => "let a = { a = a; }; in a".into(),
            4 => "let a = { inherit a; b = [ a ]; }; in builtins.toJSON a".into(),
            5 => format!("builtins.length (builtins.genList (x: x) {})", n * 10),
            6 => format!("{}1{}", "(".repeat(n), ")".repeat(n)),
            7 => format!("{}{}", "[".repeat(n), "]".repeat(n)),
            8 => format!("{}{{}}{}", "{ a = ".repeat(n), "; }".repeat(n)),
            9 => format!("1{}", " + 1".repeat(n)),
            10 => format!("let f = n: if n == 0 then 0 else 1 + f (n - 1); in f {n}"),
            11 => format!("builtins.foldl' (a: b: a + b) 0 (builtins.genList (x: x) {})", n * 10),
            12 => "let f = x: [ (f x) ]; in f 1".into(),
            13 => "let s = { __toString = self: self; }; in \"${s}\"".into(),
            14 => "let s = { __functor = self: self; }; in s 1 2".into(),
            15 => "builtins.deepSeq (let a = { a = a; }; in a) 1".into(),
            16 => "let xs = [ 1 ] ++ xs; in builtins.length xs".into(),
            17 => format!("builtins.concatStringsSep \"\" (builtins.genList (x: \"ab\") {n})"),
            18 => format!("{}x", "let x = 1; in ".repeat(n.min(10_000))),
            19 => format!("{}1", "x: ".repeat(n.min(10_000))),
            20 => format!("\"{}\"", "${\"a".repeat(n.min(10_000)) + &"\"}".repeat(n.min(10_000))),
            21 => format!("{}true", "!".repeat(n)),
            22 => format!("{}1", "-".repeat(n)),
            23 => format!(
                "builtins.length (builtins.genericClosure {{ startSet = [ {{ key = 1; }} ]; \
                 operator = x: if x.key < {n} then [ {{ key = x.key + 1; }} ] else [ ]; }})"
            ),
            24 => format!("{}a", "with { a = 1; }; ".repeat(n.min(10_000))),
            // Coercions that recursed without a stack check (fuzz-fail-coerce-*).
            25 => "let x = { outPath = x; }; in \"${x}\"".into(),
            26 => "let x = [ x ]; in builtins.toString x".into(),
            _ => format!("let l = builtins.genList (x: x) {n}; in builtins.sort (a: b: a > b) l"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_varied() {
        let names: Vec<String> = DEFAULT_BUILTINS.iter().map(|s| s.to_string()).collect();
        let gen = |i| {
            let mut r = Rng::for_case(42, i);
            Generator::new(&mut r, &names).program()
        };
        let a: Vec<String> = (0..50).map(gen).collect();
        let b: Vec<String> = (0..50).map(gen).collect();
        assert_eq!(a, b);
        let distinct: std::collections::HashSet<&String> = a.iter().collect();
        assert!(distinct.len() > 40, "only {} distinct programs", distinct.len());
    }

    #[test]
    fn network_builtins_excluded() {
        assert!(!allowed_builtin("fetchurl"));
        assert!(!allowed_builtin("fetchGit"));
        assert!(allowed_builtin("map"));
    }
}
