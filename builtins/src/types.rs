//! Type predicates, `typeOf`, and the plain constants.

use nix_eval::error::Result;
use nix_eval::source::Pos;
use nix_eval::value::ValueType;
use nix_eval::{BuiltinDef, ConstantDef, Eval, Value};

macro_rules! is_type {
    ($fn:ident, $name:literal, $pat:pat) => {
        fn $fn(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
            let v = crate::Args::new($name, args, pos).value(ev, 0)?;
            Ok(Value::Bool(matches!(v.ty(), $pat)))
        }
    };
}

is_type!(is_null, "isNull", ValueType::Null);
is_type!(is_bool, "isBool", ValueType::Bool);
is_type!(is_int, "isInt", ValueType::Int);
is_type!(is_float, "isFloat", ValueType::Float);
is_type!(is_string, "isString", ValueType::String);
is_type!(is_path, "isPath", ValueType::Path);
is_type!(is_attrs, "isAttrs", ValueType::Attrs);
is_type!(is_list, "isList", ValueType::List);
is_type!(is_function, "isFunction", ValueType::Function);

fn type_of(ev: &mut Eval, args: &[Value], pos: Pos) -> Result<Value> {
    let v = crate::Args::new("typeOf", args, pos).value(ev, 0)?;
    Ok(Value::string(v.ty().type_of()))
}

pub const BUILTINS: &[BuiltinDef] = &[
    BuiltinDef { name: "isNull", arity: 1, global: true, func: is_null },
    BuiltinDef { name: "isBool", arity: 1, global: false, func: is_bool },
    BuiltinDef { name: "isInt", arity: 1, global: false, func: is_int },
    BuiltinDef { name: "isFloat", arity: 1, global: false, func: is_float },
    BuiltinDef { name: "isString", arity: 1, global: false, func: is_string },
    BuiltinDef { name: "isPath", arity: 1, global: false, func: is_path },
    BuiltinDef { name: "isAttrs", arity: 1, global: false, func: is_attrs },
    BuiltinDef { name: "isList", arity: 1, global: false, func: is_list },
    BuiltinDef { name: "isFunction", arity: 1, global: false, func: is_function },
    BuiltinDef { name: "typeOf", arity: 1, global: false, func: type_of },
];

pub const CONSTANTS: &[ConstantDef] = &[
    ConstantDef { name: "true", global: true, value: |_| Value::Bool(true) },
    ConstantDef { name: "false", global: true, value: |_| Value::Bool(false) },
    ConstantDef { name: "null", global: true, value: |_| Value::Null },
    ConstantDef { name: "nixVersion", global: false, value: |_| Value::string("2.36.0") },
    ConstantDef { name: "langVersion", global: false, value: |_| Value::Int(6) },
    ConstantDef { name: "storeDir", global: false, value: |ev| Value::string(ev.settings.store_dir.clone()) },
];
