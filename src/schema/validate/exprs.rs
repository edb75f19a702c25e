//! Converting AST expressions into the model's argument values and policy
//! expressions, and reading typed attribute arguments.
//!
//! Owns the small helpers every validation pass uses to look at attribute
//! arguments ("the first positional string", "the named `scope:` ident").

use serde_json::Value;

use super::super::ast::{self, Arg, AttributeAst, BinOp, ExprKind};
use super::super::diagnostics::Diag;
use super::super::model::{ArgValue, Attribute, AttributeArg, BinaryOp, Expr};

/// The model form of an attribute as written.
pub(super) fn attribute(a: &AttributeAst) -> Attribute {
    Attribute {
        name: a.name.name.clone(),
        args: a
            .args()
            .iter()
            .map(|arg| AttributeArg {
                name: arg.name.as_ref().map(|n| n.name.clone()),
                value: arg_value(&arg.value),
            })
            .collect(),
        span: a.span,
    }
}

/// The model form of an argument value.
pub(super) fn arg_value(e: &ast::Expr) -> ArgValue {
    match &e.kind {
        ExprKind::Str(s) => ArgValue::String(s.clone()),
        ExprKind::Number(n) => ArgValue::Number(*n),
        ExprKind::Duration(d) => ArgValue::String(d.clone()),
        ExprKind::Bool(b) => ArgValue::Bool(*b),
        ExprKind::Null => ArgValue::Expr(Expr::Literal(Value::Null)),
        ExprKind::Ident(s) => ArgValue::Ident(s.clone()),
        ExprKind::Array(items) => ArgValue::Array(items.iter().map(arg_value).collect()),
        ExprKind::Call(name, args) => ArgValue::Call {
            name: name.name.clone(),
            args: args.iter().map(arg_value).collect(),
            path: Vec::new(),
        },
        ExprKind::Member(..) => {
            if let Some(p) = e.as_path() {
                return ArgValue::Path(p);
            }
            if let Some((name, args, path)) = call_path(e) {
                return ArgValue::Call {
                    name: name.name.clone(),
                    args: args.iter().map(arg_value).collect(),
                    path,
                };
            }
            policy_expr(e)
                .map(ArgValue::Expr)
                .unwrap_or(ArgValue::Path(Vec::new()))
        }
        ExprKind::Not(_) | ExprKind::Binary(..) => policy_expr(e)
            .map(ArgValue::Expr)
            .unwrap_or(ArgValue::Path(Vec::new())),
    }
}

/// `call(args).a.b` → (call, args, [a, b]).
pub(super) fn call_path(e: &ast::Expr) -> Option<(&ast::Ident, &[ast::Expr], Vec<String>)> {
    match &e.kind {
        ExprKind::Call(name, args) => Some((name, args, Vec::new())),
        ExprKind::Member(base, m) => {
            let (n, a, mut p) = call_path(base)?;
            p.push(m.name.clone());
            Some((n, a, p))
        }
        _ => None,
    }
}

/// Converts a policy condition, or explains what is not allowed in one.
pub(super) fn policy_expr(e: &ast::Expr) -> Result<Expr, Diag> {
    Ok(match &e.kind {
        ExprKind::Str(s) => Expr::Literal(Value::String(s.clone())),
        ExprKind::Number(n) => Expr::Literal(number(*n)),
        ExprKind::Bool(b) => Expr::Literal(Value::Bool(*b)),
        ExprKind::Null => Expr::Literal(Value::Null),
        ExprKind::Duration(d) => {
            return Err(Diag::new(
                e.span,
                format!("`{d}` is not allowed in a policy expression"),
            ));
        }
        ExprKind::Ident(s) => Expr::Field(vec![s.clone()]),
        ExprKind::Array(_) => {
            return Err(Diag::new(
                e.span,
                "arrays are not allowed in a policy expression",
            ));
        }
        ExprKind::Member(..) | ExprKind::Call(..) => {
            if let Some(p) = e.as_path() {
                return Ok(Expr::Field(p));
            }
            let Some((name, args, path)) = call_path(e) else {
                return Err(Diag::new(e.span, "unsupported member access"));
            };
            match name.name.as_str() {
                "auth" if args.is_empty() => Expr::Auth(path),
                "now" if args.is_empty() && path.is_empty() => Expr::Now,
                "check" if path.is_empty() => {
                    if args.len() != 2 {
                        return Err(Diag::new(
                            e.span,
                            format!(
                                "`check` takes 2 arguments (relation, condition), found {}",
                                args.len()
                            ),
                        ));
                    }
                    let Some(rel) = args[0].as_ident() else {
                        return Err(Diag::new(
                            args[0].span,
                            "the first argument of `check` must be a relation field name",
                        ));
                    };
                    Expr::Check {
                        relation: rel.to_string(),
                        expr: Box::new(policy_expr(&args[1])?),
                    }
                }
                "auth" | "now" | "check" => {
                    return Err(Diag::new(
                        e.span,
                        format!("wrong use of `{}()` in a policy expression", name.name),
                    ));
                }
                other => {
                    return Err(Diag::new(
                        name.span,
                        format!(
                            "unknown function `{other}` in a policy expression (expected `auth()`, `now()` or `check(...)`)"
                        ),
                    ));
                }
            }
        }
        ExprKind::Not(inner) => Expr::Not(Box::new(policy_expr(inner)?)),
        ExprKind::Binary(op, l, r) => Expr::Binary {
            op: match op {
                BinOp::Or => BinaryOp::Or,
                BinOp::And => BinaryOp::And,
                BinOp::Eq => BinaryOp::Eq,
                BinOp::Ne => BinaryOp::Ne,
                BinOp::Lt => BinaryOp::Lt,
                BinOp::Le => BinaryOp::Le,
                BinOp::Gt => BinaryOp::Gt,
                BinOp::Ge => BinaryOp::Ge,
            },
            left: Box::new(policy_expr(l)?),
            right: Box::new(policy_expr(r)?),
        },
    })
}

/// A JSON number, integral when it is one.
pub(super) fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// Typed access to an attribute's arguments.
pub(super) struct Args<'a> {
    pub(super) attr: &'a AttributeAst,
}

impl<'a> Args<'a> {
    pub(super) fn new(attr: &'a AttributeAst) -> Args<'a> {
        Args { attr }
    }

    /// Positional arguments.
    pub(super) fn positional(&self) -> Vec<&'a Arg> {
        self.attr
            .args()
            .iter()
            .filter(|a| a.name.is_none())
            .collect()
    }

    /// The named argument `name`.
    pub(super) fn named(&self, name: &str) -> Option<&'a Arg> {
        self.attr
            .args()
            .iter()
            .find(|a| a.name.as_ref().is_some_and(|n| n.name == name))
    }

    /// Reports named arguments not in `allowed` and more than `max_positional`
    /// positional arguments.
    pub(super) fn check_shape(
        &self,
        allowed: &[&str],
        max_positional: usize,
        diags: &mut Vec<Diag>,
    ) {
        let name = display_name(self.attr);
        let mut positional = 0;
        for a in self.attr.args() {
            match &a.name {
                Some(n) if !allowed.contains(&n.name.as_str()) => diags.push(Diag::new(
                    n.span,
                    format!("unknown argument `{}` for `{name}`", n.name),
                )),
                Some(_) => {}
                None => {
                    positional += 1;
                    if positional > max_positional {
                        let msg = if max_positional == 0 {
                            format!("`{name}` takes no arguments")
                        } else {
                            format!("too many arguments for `{name}`")
                        };
                        diags.push(Diag::new(a.span, msg));
                    }
                }
            }
        }
    }
}

/// `@name` / `@@name` as written.
pub(super) fn display_name(a: &AttributeAst) -> String {
    format!("{}{}", if a.block { "@@" } else { "@" }, a.name.name)
}

/// The names of `[a, b]` (or a single bare name).
pub(super) fn name_list(e: &ast::Expr) -> Result<Vec<(String, ast::Expr)>, Diag> {
    let items: Vec<&ast::Expr> = match &e.kind {
        ExprKind::Array(items) => items.iter().collect(),
        ExprKind::Ident(_) => vec![e],
        _ => {
            return Err(Diag::new(
                e.span,
                "expected a list of field names like `[a, b]`",
            ));
        }
    };
    items
        .into_iter()
        .map(|i| match i.as_ident() {
            Some(n) => Ok((n.to_string(), i.clone())),
            None => Err(Diag::new(i.span, "expected a field name")),
        })
        .collect()
}
