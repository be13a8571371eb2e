//! The JSON lines between the collector and a worker.
//!
//! worker → collector, once started: `{"ready":true}` or `{"fatal":"message"}` (the root
//! could not be evaluated: the run stops). collector → worker: `{"path":["a","b"]}`, one
//! at a time. worker → collector, per request: the [`Outcome`] with what the job did to
//! the worker's memory and whether it exits now (`restart`: `--max-memory-size` passed),
//! or `retry` (the worker stopped in the job at the limit: a fresh one evaluates it again);
//! see [`super::memory`].

use serde_json::{json, Map, Value as Json};

/// What a worker found at a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A derivation: the job's fields (`drvPath`, `name`, `outputs`, `system`, `meta`).
    Job(Map<String, Json>),
    /// A set to walk: the names of the attributes to visit (empty: nothing to do).
    Attrs(Vec<String>),
    /// The evaluation failed with this message.
    Error(String),
}

impl Outcome {
    /// The reply of an eval-jobs worker (the pool adds the memory fields, see
    /// [`super::memory::JobMemory`], and `restart`/`retry`).
    pub fn to_json(&self) -> Json {
        let mut m = Map::new();
        match self {
            Outcome::Job(j) => m.insert("job".into(), Json::Object(j.clone())),
            Outcome::Attrs(a) => m.insert("attrs".into(), json!(a)),
            Outcome::Error(e) => m.insert("error".into(), json!(e)),
        };
        Json::Object(m)
    }

    /// An outcome read back from [`Outcome::to_json`]'s form.
    pub fn from_json(v: &Json) -> Option<Outcome> {
        let o = v.as_object()?;
        Some(if let Some(Json::Object(j)) = o.get("job") {
            Outcome::Job(j.clone())
        } else if let Some(Json::Array(a)) = o.get("attrs") {
            Outcome::Attrs(a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
        } else if let Some(Json::String(e)) = o.get("error") {
            Outcome::Error(e.clone())
        } else {
            return None;
        })
    }
}

/// A request line for `path`.
pub fn request(path: &[String]) -> String {
    json!({ "path": path }).to_string()
}

/// The path of a request.
pub fn parse_request(v: &Json) -> Option<Vec<String>> {
    v.get("path")?.as_array()?.iter().map(|s| s.as_str().map(String::from)).collect()
}

/// nix-eval-jobs' `attr`: the path joined with dots, names that contain a dot quoted.
pub fn attr_string(path: &[String]) -> String {
    let q: Vec<String> = path.iter().map(|n| if n.contains('.') { format!("\"{n}\"") } else { n.clone() }).collect();
    q.join(".")
}

/// The output line of a finished attribute: `attr`, `attrPath`, then the job's fields or
/// `error`, keys in nix-eval-jobs' (sorted) order.
pub fn output_line(path: &[String], result: Result<&Map<String, Json>, &str>) -> String {
    let mut m = Map::new();
    m.insert("attr".into(), json!(attr_string(path)));
    m.insert("attrPath".into(), json!(path));
    match result {
        Ok(job) => {
            for (k, v) in job {
                m.insert(k.clone(), v.clone());
            }
        }
        Err(e) => {
            m.insert("error".into(), json!(e));
        }
    }
    let mut entries: Vec<(String, Json)> = m.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Json::Object(entries.into_iter().collect()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_round_trip() {
        for outcome in [
            Outcome::Attrs(vec!["a".into(), "b.c".into()]),
            Outcome::Error("error: boom\n  at x".into()),
            Outcome::Job(serde_json::from_str(r#"{"drvPath":"/nix/store/x.drv","name":"x"}"#).unwrap()),
        ] {
            assert_eq!(Outcome::from_json(&outcome.to_json()), Some(outcome));
        }
        assert_eq!(Outcome::from_json(&json!("garbage")), None);
        assert_eq!(
            parse_request(&serde_json::from_str(&request(&["a".into(), "b".into()])).unwrap()),
            Some(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn output_keys_sorted_and_attr_quoted() {
        let job: Map<String, Json> = serde_json::from_str(r#"{"system":"s","drvPath":"/d","name":"n"}"#).unwrap();
        let line = output_line(&["a".into(), "b.c".into()], Ok(&job));
        assert_eq!(line, r#"{"attr":"a.\"b.c\"","attrPath":["a","b.c"],"drvPath":"/d","name":"n","system":"s"}"#);
        let line = output_line(&["x".into()], Err("error: no"));
        assert_eq!(line, r#"{"attr":"x","attrPath":["x"],"error":"error: no"}"#);
    }
}
