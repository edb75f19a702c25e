//! Snapshots of the resolved semantic model of every fixture schema, in a
//! compact text form (one line per model, field, relation and constraint),
//! so a change in validation shows up as a readable diff.

#![allow(clippy::unwrap_used)]

use std::fmt::Write;

use litestone::schema::{self, *};

fn ty(s: &Schema, f: &Field) -> String {
    let base = match &f.ty {
        FieldType::Scalar(t) => t.name().to_string(),
        FieldType::Enum(id) => format!("enum {}", s.enum_by_id(*id).name),
        FieldType::Shape(id) => format!("type {}", s.type_by_id(*id).name),
        FieldType::Relation(r) => format!("-> {}", s.model_by_id(r.target).name),
    };
    format!(
        "{base}{}{}",
        if f.list { "[]" } else { "" },
        if f.optional { "?" } else { "" }
    )
}

fn names(m: &Model, ids: &[FieldId]) -> String {
    ids.iter()
        .map(|i| m.field_by_id(*i).name.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

fn summary(s: &Schema) -> String {
    let mut o = String::new();
    for d in &s.databases {
        writeln!(
            o,
            "database {} {:?} path={:?} retention={:?}",
            d.name, d.driver, d.path, d.retention
        )
        .unwrap();
    }
    for e in &s.enums {
        writeln!(o, "enum {} {:?}", e.name, e.values).unwrap();
    }
    for f in &s.functions {
        writeln!(
            o,
            "function {}({:?}): {} = {}",
            f.name, f.params, f.returns, f.expr
        )
        .unwrap();
    }
    for t in &s.types {
        writeln!(o, "type {} ({} keys)", t.name, t.fields.len()).unwrap();
    }
    for m in &s.models {
        writeln!(
            o,
            "model {} table={} db={} strict={} external={} auth={} pk=[{}]",
            m.name,
            m.table,
            m.database.as_deref().unwrap_or("main"),
            m.strict,
            m.external,
            m.is_auth,
            names(m, &m.primary_key)
        )
        .unwrap();
        for f in &m.fields {
            let mut flags = Vec::new();
            if f.column != f.name {
                flags.push(format!("column={}", f.column));
            }
            if f.is_unique {
                flags.push("unique".into());
            }
            if let Some(d) = &f.default {
                flags.push(format!("default={d:?}"));
            }
            if let Some(g) = &f.generated {
                flags.push(format!(
                    "generated({})={}",
                    if g.stored { "stored" } else { "virtual" },
                    g.expr
                ));
            }
            if f.updated_at {
                flags.push("updatedAt".into());
            }
            if let Some(p) = &f.updated_by {
                flags.push(format!("updatedBy={p:?}"));
            }
            if let Some(q) = &f.sequence {
                flags.push(format!(
                    "sequence(scope={:?})",
                    q.scope.map(|i| m.field_by_id(i).name.clone())
                ));
            }
            if f.omit != Visibility::None {
                flags.push(format!("omit={:?}", f.omit));
            }
            if f.guarded != Visibility::None {
                flags.push(format!("guarded={:?}", f.guarded));
            }
            if let Some(e) = f.encrypted {
                flags.push(format!("encrypted(searchable={})", e.searchable));
            }
            if let Some(l) = &f.log {
                flags.push(format!("log={l}"));
            }
            if !f.policies.is_empty() {
                flags.push(format!("{} policies", f.policies.len()));
            }
            if !f.validators.is_empty() {
                flags.push(format!("validators={:?}", f.validators));
            }
            if !f.transforms.is_empty() {
                flags.push(format!("transforms={:?}", f.transforms));
            }
            if let Some(d) = &f.from {
                flags.push(format!(
                    "from({} {:?} where={:?})",
                    s.model_by_id(d.target).name,
                    d.agg,
                    d.filter
                ));
            }
            for (flag, on) in [
                ("computed", f.computed),
                ("hardDelete", f.hard_delete),
                ("markdown", f.markdown),
                ("keepVersions", f.keep_versions),
            ] {
                if on {
                    flags.push(flag.into());
                }
            }
            if let Some(a) = &f.accept {
                flags.push(format!("accept={a}"));
            }
            if let Some(r) = f.relation() {
                let kind = match &r.kind {
                    RelationKind::BelongsTo {
                        fields,
                        references,
                        on_delete,
                        on_update,
                    } => format!(
                        "belongsTo [{}] -> [{}] onDelete={on_delete:?} onUpdate={on_update:?}",
                        names(m, fields),
                        names(s.model_by_id(r.target), references)
                    ),
                    RelationKind::HasMany { inverse } => format!(
                        "hasMany via {}",
                        s.model_by_id(r.target).field_by_id(*inverse).name
                    ),
                    RelationKind::HasOne { inverse } => format!(
                        "hasOne via {}",
                        s.model_by_id(r.target).field_by_id(*inverse).name
                    ),
                    RelationKind::ManyToMany(j) => format!(
                        "manyToMany table={} {}->{} implicit={}",
                        j.table, j.source_column, j.target_column, j.implicit
                    ),
                };
                flags.push(match &r.name {
                    Some(n) => format!("{kind} name={n}"),
                    None => kind,
                });
            }
            let line = format!("  {} {} {}", f.name, ty(s, f), flags.join(" "));
            writeln!(o, "{}", line.trim_end()).unwrap();
        }
        for u in &m.uniques {
            writeln!(o, "  @@unique [{}] name={:?}", names(m, &u.fields), u.name).unwrap();
        }
        for i in &m.indexes {
            writeln!(
                o,
                "  @@index [{}] {} where={:?}",
                names(m, &i.fields),
                i.name,
                i.predicate
            )
            .unwrap();
        }
        if let Some(sd) = m.soft_delete {
            writeln!(o, "  @@softDelete cascade={}", sd.cascade).unwrap();
        }
        if let Some(f) = &m.fts {
            writeln!(o, "  @@fts [{}] table={}", names(m, &f.fields), f.table).unwrap();
        }
        if let Some(g) = m.gate {
            writeln!(
                o,
                "  @@gate {}.{}.{}.{}",
                g.read, g.create, g.update, g.delete
            )
            .unwrap();
        }
        for p in &m.policies {
            writeln!(
                o,
                "  @@{:?} {:?} {:?} message={:?}",
                p.effect, p.ops, p.expr, p.message
            )
            .unwrap();
        }
        if let Some(l) = &m.log {
            writeln!(o, "  @@log {l}").unwrap();
        }
        if !m.traits.is_empty() {
            writeln!(o, "  traits {:?}", m.traits).unwrap();
        }
    }
    o
}

#[test]
fn resolved_model_of_fixtures() {
    insta::glob!("fixtures/{readme,ddl}/*.lite", |path| {
        let s = schema::parse_file(path).unwrap();
        insta::assert_snapshot!(summary(&s));
    });
}

/// Cross-references of the resolved model are consistent for every fixture.
#[test]
fn resolved_model_invariants() {
    insta::glob!("fixtures/{readme,ddl}/*.lite", |path| {
        let s = schema::parse_file(path).unwrap();
        for (i, m) in s.models.iter().enumerate() {
            assert_eq!(m.id, ModelId(i as u32));
            assert_eq!(s.model_id(&m.name), Some(m.id));
            for (j, f) in m.fields.iter().enumerate() {
                assert_eq!(f.id, FieldId(j as u32));
                assert_eq!(m.field_id(&f.name), Some(f.id));
            }
            for c in m
                .primary_key
                .iter()
                .chain(m.uniques.iter().flat_map(|u| &u.fields))
                .chain(m.indexes.iter().flat_map(|x| &x.fields))
            {
                assert!(m.field_by_id(*c).is_column(), "{}.{c:?}", m.name);
            }
            for (f, r) in m.relations() {
                let t = s.model_by_id(r.target);
                match &r.kind {
                    RelationKind::BelongsTo {
                        fields, references, ..
                    } => {
                        assert_eq!(fields.len(), references.len());
                        assert!(fields.iter().all(|x| m.field_by_id(*x).is_column()));
                        assert!(references.iter().all(|x| t.field_by_id(*x).is_column()));
                    }
                    RelationKind::HasMany { inverse } | RelationKind::HasOne { inverse } => {
                        let inv = t.field_by_id(*inverse).relation().unwrap();
                        assert_eq!(inv.target, m.id, "{}.{}", m.name, f.name);
                        assert!(matches!(inv.kind, RelationKind::BelongsTo { .. }));
                        assert_eq!(inv.name, r.name);
                    }
                    RelationKind::ManyToMany(j) => {
                        if j.implicit {
                            assert_eq!(m.single_pk().unwrap().id, j.source_ref);
                            assert_eq!(t.single_pk().unwrap().id, j.target_ref);
                        }
                        assert_ne!(j.source_column, j.target_column);
                    }
                }
            }
            for f in &m.fields {
                if let Some(d) = &f.from {
                    let t = s.model_by_id(d.target);
                    if let Some(inv) = d.inverse {
                        assert_eq!(t.field_by_id(inv).relation().unwrap().target, m.id);
                    }
                    if !d.via_model {
                        assert!(m.field_by_id(d.relation).relation().is_some());
                    }
                }
            }
        }
    });
}
