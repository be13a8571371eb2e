//! Type-directed generation: programs that mostly evaluate without error.
//!
//! Random grammar ([`super::grammar`]) stops at the first type error, so the
//! builtins' inner paths (odd regexes, substring bounds, sort comparators,
//! JSON corner cases, huge or negative counts) are rarely reached. Here each
//! subexpression is built for the type its context needs (integer, string,
//! Boolean, list, attribute set), through literals, operators and builtin
//! calls; now and then a value of the wrong type is put in on purpose.

use super::rng::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Int,
    Str,
    Bool,
    List,
    Set,
}

const TYPES: &[Ty] = &[Ty::Int, Ty::Str, Ty::Bool, Ty::List, Ty::Set];

const REGEXES: &[&str] = &[
    "a",
    ".*",
    "(a)(b)?",
    "[a-z]+",
    "([^/]*)/(.*)",
    "\\\\.",
    "(",
    "[",
    "a{2,}",
    "(a|b)*c",
    "^$",
    "[[:alpha:]]+",
    "\\\\",
    "(.*)(.*)(.*)",
    "a**",
    "x{99999}",
];
const STRINGS: &[&str] =
    &["", "a", "abc", "hello world", "1.2.3", "foo-1.0pre", "a/b/c", "ü€😀", "\\n", "\\${", "{\\\"a\\\":1}", "-", " "];
const JSON: &[&str] = &[
    "{\\\"a\\\": [1, 2.5, null, true, \\\"x\\\"]}",
    "[]",
    "1e400",
    "-9223372036854775808",
    "9223372036854775808",
    "\\\"\\\\ud800\\\"",
    "[[[[[[[[[[1]]]]]]]]]]",
    "{\\\"a\\\":1,\\\"a\\\":2}",
    "nul",
    "",
    "0.1",
];

pub struct Typed<'a> {
    rng: &'a mut Rng,
    budget: usize,
    /// Bound integer variables (`let`/lambda arguments) usable as ints.
    ints: Vec<String>,
    fresh: usize,
}

impl<'a> Typed<'a> {
    pub fn new(rng: &'a mut Rng) -> Self {
        Typed { rng, budget: 0, ints: Vec::new(), fresh: 0 }
    }

    pub fn program(&mut self) -> String {
        self.budget = self.rng.range(10, 80);
        let ty = *self.rng.pick(TYPES);
        let depth = self.rng.range(2, 6);
        self.of(ty, depth)
    }

    fn var(&mut self) -> String {
        self.fresh += 1;
        format!("v{}", self.fresh)
    }

    /// An expression of type `ty` (or, rarely, deliberately not).
    pub fn of(&mut self, ty: Ty, depth: usize) -> String {
        let ty = if self.rng.one_in(25) { *self.rng.pick(TYPES) } else { ty };
        if depth == 0 || self.budget == 0 {
            return self.literal(ty);
        }
        self.budget -= 1;
        let d = depth - 1;
        if self.rng.one_in(8) {
            return self.binding_form(ty, d);
        }
        match ty {
            Ty::Int => self.int(d),
            Ty::Str => self.string(d),
            Ty::Bool => self.bool(d),
            Ty::List => self.list(d),
            Ty::Set => self.set(d),
        }
    }

    /// An expression of a random type.
    fn any(&mut self, depth: usize) -> String {
        let ty = *self.rng.pick(TYPES);
        self.of(ty, depth)
    }

    fn literal(&mut self, ty: Ty) -> String {
        match ty {
            Ty::Int => {
                if !self.ints.is_empty() && self.rng.one_in(3) {
                    return self.rng.pick(&self.ints).clone();
                }
                (*self.rng.pick(&[
                    "0",
                    "1",
                    "2",
                    "3",
                    "7",
                    "-1",
                    "100",
                    "9223372036854775807",
                    "(-9223372036854775807 - 1)",
                ]))
                .to_string()
            }
            Ty::Str => format!("\"{}\"", self.rng.pick(STRINGS)),
            Ty::Bool => (*self.rng.pick(&["true", "false"])).to_string(),
            Ty::List => (*self.rng.pick(&["[ ]", "[ 1 2 3 ]", "[ \"b\" \"a\" ]", "[ [ 1 ] { } null ]"])).to_string(),
            Ty::Set => (*self.rng.pick(&["{ }", "{ a = 1; }", "{ a = { b = \"x\"; }; c = [ ]; }"])).to_string(),
        }
    }

    /// `let`, a lambda application or `if`, producing `ty`.
    fn binding_form(&mut self, ty: Ty, d: usize) -> String {
        match self.rng.below(3) {
            0 => {
                let v = self.var();
                let value = self.of(Ty::Int, d);
                self.ints.push(v.clone());
                let body = self.of(ty, d);
                self.ints.pop();
                format!("(let {v} = {value}; in {body})")
            }
            1 => {
                let v = self.var();
                let arg = self.of(Ty::Int, d);
                self.ints.push(v.clone());
                let body = self.of(ty, d);
                self.ints.pop();
                format!("({v}: {body}) ({arg})")
            }
            _ => {
                let (c, t, e) = (self.of(Ty::Bool, d), self.of(ty, d), self.of(ty, d));
                format!("(if {c} then {t} else {e})")
            }
        }
    }

    fn int(&mut self, d: usize) -> String {
        match self.rng.below(12) {
            0 => {
                let (a, b) = (self.of(Ty::Int, d), self.of(Ty::Int, d));
                let op = *self.rng.pick(&["+", "-", "*", "/"]);
                format!("({a} {op} {b})")
            }
            1 => format!("(builtins.length {})", self.of(Ty::List, d)),
            2 => format!("(builtins.stringLength {})", self.of(Ty::Str, d)),
            3 => {
                let f = *self.rng.pick(&["div", "mul", "sub", "add", "bitAnd", "bitOr", "bitXor"]);
                format!("(builtins.{f} {} {})", self.of(Ty::Int, d), self.of(Ty::Int, d))
            }
            4 => format!("(builtins.foldl' (a: b: a + b) 0 {})", self.int_list(d)),
            5 => format!("(builtins.head {})", self.int_list(d)),
            6 => format!("({}.a or {})", self.of(Ty::Set, d), self.of(Ty::Int, d)),
            7 => format!("(builtins.compareVersions {} {})", self.of(Ty::Str, d), self.of(Ty::Str, d)),
            8 => format!("(builtins.elemAt {} {})", self.int_list(d), self.of(Ty::Int, d)),
            9 => format!("(builtins.fromJSON \"{}\")", self.rng.pick(JSON)),
            10 => format!("(builtins.ceil {})", self.rng.pick(&["1.5", "-0.5", "1.0e300", "(0.0 / 1)"])),
            _ => self.literal(Ty::Int),
        }
    }

    fn int_list(&mut self, d: usize) -> String {
        match self.rng.below(3) {
            0 => {
                let n = self.of(Ty::Int, d.min(1));
                format!("(builtins.genList (i: i * {n}) {})", self.rng.pick(&["0", "3", "100", "10000"]))
            }
            1 => {
                let items: Vec<String> = (0..self.rng.range(0, 4)).map(|_| self.of(Ty::Int, d)).collect();
                format!("[ {} ]", items.join(" "))
            }
            _ => format!("(builtins.sort builtins.lessThan {})", self.int_list(d.saturating_sub(1))),
        }
    }

    fn string(&mut self, d: usize) -> String {
        match self.rng.below(16) {
            0 => format!("\"x${{{}}}y\"", self.of(Ty::Str, d)),
            1 => format!("({} + {})", self.of(Ty::Str, d), self.of(Ty::Str, d)),
            2 => format!("(builtins.toString {})", self.any(d)),
            3 => {
                format!("(builtins.substring {} {} {})", self.of(Ty::Int, d), self.of(Ty::Int, d), self.of(Ty::Str, d))
            }
            4 => format!("(builtins.concatStringsSep {} {})", self.of(Ty::Str, d), self.str_list(d)),
            5 => format!("(builtins.replaceStrings {} {} {})", self.str_list(d), self.str_list(d), self.of(Ty::Str, d)),
            6 => format!("(builtins.toJSON {})", self.any(d)),
            7 => format!("(builtins.typeOf {})", self.any(d)),
            8 => format!(
                "(builtins.hashString \"{}\" {})",
                self.rng.pick(&["md5", "sha1", "sha256", "sha512", "sha3"]),
                self.of(Ty::Str, d)
            ),
            9 => format!("(builtins.toXML {})", self.any(d)),
            10 => format!("''\n  a ${{{}}}\n    b''${{x}} ''\\t\n''", self.of(Ty::Str, d)),
            11 => format!("(builtins.baseNameOf {})", self.of(Ty::Str, d)),
            12 => format!("(builtins.unsafeDiscardStringContext {})", self.of(Ty::Str, d)),
            13 => format!("(builtins.elemAt (builtins.splitVersion {}) 0)", self.of(Ty::Str, d)),
            14 => format!("(builtins.toFile \"f\" {})", self.of(Ty::Str, d)),
            _ => self.literal(Ty::Str),
        }
    }

    fn str_list(&mut self, d: usize) -> String {
        if self.rng.one_in(3) {
            format!("(builtins.attrNames {})", self.of(Ty::Set, d))
        } else {
            let items: Vec<String> = (0..self.rng.range(0, 3)).map(|_| self.of(Ty::Str, d)).collect();
            format!("[ {} ]", items.join(" "))
        }
    }

    fn bool(&mut self, d: usize) -> String {
        match self.rng.below(10) {
            0 => {
                let op = *self.rng.pick(&["<", "<=", ">", ">=", "==", "!="]);
                let ty = *self.rng.pick(TYPES);
                format!("({} {op} {})", self.of(ty, d), self.of(ty, d))
            }
            1 => format!("(builtins.elem {} {})", self.of(Ty::Int, d), self.of(Ty::List, d)),
            2 => format!("(builtins.hasAttr {} {})", self.of(Ty::Str, d), self.of(Ty::Set, d)),
            3 => format!("({} ? a.b)", self.of(Ty::Set, d)),
            4 => format!("(builtins.match \"{}\" {} == null)", self.rng.pick(REGEXES), self.of(Ty::Str, d)),
            5 => format!("(!{})", self.of(Ty::Bool, d)),
            6 => {
                let op = *self.rng.pick(&["&&", "||", "->"]);
                format!("({} {op} {})", self.of(Ty::Bool, d), self.of(Ty::Bool, d))
            }
            7 => format!("(builtins.tryEval {}).success", self.any(d)),
            8 => format!("(builtins.all (x: x == x) {})", self.of(Ty::List, d)),
            _ => self.literal(Ty::Bool),
        }
    }

    fn list(&mut self, d: usize) -> String {
        match self.rng.below(12) {
            0 => {
                let items: Vec<String> = (0..self.rng.range(0, 4)).map(|_| self.any(d)).collect();
                format!("[ {} ]", items.join(" "))
            }
            1 => format!("({} ++ {})", self.of(Ty::List, d), self.of(Ty::List, d)),
            2 => format!("(builtins.map (x: [ x ]) {})", self.of(Ty::List, d)),
            3 => format!("(builtins.filter (x: x != null) {})", self.of(Ty::List, d)),
            4 => self.int_list(d),
            5 => format!("(builtins.split \"{}\" {})", self.rng.pick(REGEXES), self.of(Ty::Str, d)),
            6 => format!("(builtins.attrValues {})", self.of(Ty::Set, d)),
            7 => format!("(builtins.tail {})", self.of(Ty::List, d)),
            8 => format!("(builtins.concatLists [ {} {} ])", self.of(Ty::List, d), self.of(Ty::List, d)),
            9 => format!("(builtins.catAttrs \"a\" [ {} {} ])", self.of(Ty::Set, d), self.of(Ty::Set, d)),
            10 => format!("(builtins.match \"{}\" {})", self.rng.pick(REGEXES), self.of(Ty::Str, d)),
            _ => self.literal(Ty::List),
        }
    }

    fn set(&mut self, d: usize) -> String {
        match self.rng.below(14) {
            0 => {
                let n = self.rng.range(0, 3);
                let mut b = String::new();
                for i in 0..n {
                    let ty = *self.rng.pick(TYPES);
                    b.push_str(&format!("{} = {}; ", ["a", "b", "c"][i], self.of(ty, d)));
                }
                format!("{{ {b}}}")
            }
            1 => format!("({} // {})", self.of(Ty::Set, d), self.of(Ty::Set, d)),
            2 => format!(
                "(builtins.listToAttrs [ {{ name = {}; value = {}; }} {{ name = \"a\"; value = 1; }} ])",
                self.of(Ty::Str, d),
                self.any(d)
            ),
            3 => format!("(builtins.mapAttrs (n: v: [ n v ]) {})", self.of(Ty::Set, d)),
            4 => format!("(builtins.removeAttrs {} {})", self.of(Ty::Set, d), self.str_list(d)),
            5 => format!("(builtins.intersectAttrs {} {})", self.of(Ty::Set, d), self.of(Ty::Set, d)),
            6 => format!("(builtins.fromJSON \"{}\")", self.rng.pick(JSON)),
            7 => format!("(builtins.parseDrvName {})", self.of(Ty::Str, d)),
            8 => "(builtins.functionArgs ({ a, b ? 1, ... }: a))".to_string(),
            9 => format!("(builtins.groupBy (x: builtins.typeOf x) {})", self.of(Ty::List, d)),
            10 => format!("(builtins.zipAttrsWith (n: vs: vs) [ {} {} ])", self.of(Ty::Set, d), self.of(Ty::Set, d)),
            11 => format!("rec {{ a = {}; b = a; }}", self.any(d)),
            12 => format!("(builtins.partition (x: x == 1) {})", self.of(Ty::List, d)),
            _ => self.literal(Ty::Set),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        let a: Vec<String> = (0..30).map(|i| Typed::new(&mut Rng::for_case(5, i)).program()).collect();
        let b: Vec<String> = (0..30).map(|i| Typed::new(&mut Rng::for_case(5, i)).program()).collect();
        assert_eq!(a, b);
    }
}
