//! [`Factory`]: builds and creates rows of one model (README `Factory`,
//! `factoryFrom`, `generateFactory`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

use super::Rng;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::schema::{FieldType, Model, RelationKind, ScalarType, Schema, Validator};

/// A row definition: the sequence number (1, 2, …) and the generator in,
/// a `data` object out.
pub type Definition = Arc<dyn Fn(u64, &mut Rng) -> Map<String, Value> + Send + Sync>;

/// Where a belongsTo relation's parent comes from.
#[derive(Clone)]
enum Parent {
    /// An existing row (`for_parent`).
    Row(Value),
    /// Created by this factory for each row (`with_relation`).
    Make(Box<Factory>),
}

/// Builds rows of one model and creates them through the client.
/// Cheap to clone; the builder methods return a new factory.
#[derive(Clone)]
pub struct Factory {
    client: Client,
    model: String,
    definition: Definition,
    traits: BTreeMap<String, Map<String, Value>>,
    state: Map<String, Value>,
    parents: Vec<(String, Parent)>,
    seq: Arc<AtomicU64>,
    rng: Arc<parking_lot::Mutex<Rng>>,
    /// Depth of automatic parents (stops runaway self-relations).
    depth: u8,
}

impl std::fmt::Debug for Factory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Factory")
            .field("model", &self.model)
            .field("traits", &self.traits.keys().collect::<Vec<_>>())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

fn schema_model<'s>(schema: &'s Schema, model: &str) -> Result<&'s Model> {
    schema.model(model).ok_or_else(|| Error::UnknownModel {
        model: model.to_string(),
    })
}

/// A text that satisfies the text validators of a field.
fn text_for(name: &str, seq: u64, validators: &[Validator]) -> String {
    let mut s = format!("{name}{seq}");
    let mut prefix = String::new();
    let mut suffix = String::new();
    let mut contains = String::new();
    let (mut min, mut max) = (0usize, usize::MAX);
    for v in validators {
        match v {
            Validator::Email => s = format!("{name}{seq}@example.com"),
            Validator::Url => s = format!("https://example.com/{name}/{seq}"),
            Validator::Phone => s = format!("+1555{:07}", seq % 10_000_000),
            Validator::Date => s = format!("2024-01-{:02}", seq % 28 + 1),
            Validator::DateTime => s = format!("2024-01-{:02}T12:00:00.000Z", seq % 28 + 1),
            Validator::StartsWith(p) => prefix = p.clone(),
            Validator::EndsWith(p) => suffix = p.clone(),
            Validator::Contains(p) => contains = p.clone(),
            Validator::Length { min: lo, max: hi } => {
                min = lo.map_or(0, |n| n as usize);
                max = hi.map_or(usize::MAX, |n| n as usize);
            }
            _ => {}
        }
    }
    if !contains.is_empty() && !s.contains(&contains) {
        s = format!("{s}{contains}");
    }
    let mut s = format!("{prefix}{s}{suffix}");
    while s.chars().count() < min {
        s.push('x');
    }
    if s.chars().count() > max {
        // Keep the sequence digits (uniqueness) at the end.
        let digits = seq.to_string();
        let keep = max.saturating_sub(digits.len());
        s = s.chars().take(keep).collect::<String>() + &digits;
        s = s.chars().take(max).collect();
    }
    s
}

/// A number within the numeric validators of a field.
fn number_for(seq: u64, rng: &mut Rng, validators: &[Validator], real: bool) -> Value {
    let (mut lo, mut hi) = (1.0f64, 1000.0f64);
    for v in validators {
        match v {
            Validator::Gt(n) => lo = lo.max(n + if real { 0.5 } else { 1.0 }),
            Validator::Gte(n) => lo = lo.max(*n),
            Validator::Lt(n) => hi = hi.min(n - if real { 0.5 } else { 1.0 }),
            Validator::Lte(n) => hi = hi.min(*n),
            _ => {}
        }
    }
    if hi < lo {
        hi = lo;
    }
    if real {
        let t = (rng.next_u64() % 1000) as f64 / 1000.0;
        json!(((lo + (hi - lo) * t) * 100.0).round() / 100.0)
    } else {
        let (lo, hi) = (lo.ceil() as i64, hi.floor() as i64);
        let _ = seq;
        json!(rng.range(lo, hi.max(lo)))
    }
}

/// The schema-derived definition of `model` (README `generateFactory`):
/// a valid `data` object for every sequence number.
///
/// # Errors
/// [`Error::UnknownModel`].
pub fn generate_factory(schema: &Schema, model: &str) -> Result<Definition> {
    let m = schema_model(schema, model)?.clone();
    let enums: BTreeMap<String, Vec<String>> = m
        .fields
        .iter()
        .filter_map(|f| match &f.ty {
            FieldType::Enum(id) => Some((f.name.clone(), schema.enum_by_id(*id).values.clone())),
            _ => None,
        })
        .collect();
    // Foreign keys are filled from a parent row by `create_one`.
    let fk: Vec<crate::schema::FieldId> = m
        .fields
        .iter()
        .filter_map(|f| match f.relation().map(|r| &r.kind) {
            Some(RelationKind::BelongsTo { fields, .. }) => Some(fields.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    Ok(Arc::new(move |seq, rng| {
        let mut out = Map::new();
        for f in &m.fields {
            let skip = !f.is_column()
                || fk.contains(&f.id)
                || f.default.is_some()
                || f.updated_at
                || f.updated_by.is_some()
                || f.sequence.is_some()
                || f.generated.is_some()
                || (f.is_id && !matches!(f.ty, FieldType::Scalar(ScalarType::Text)));
            if skip {
                continue;
            }
            if f.optional {
                out.insert(f.name.clone(), Value::Null);
                continue;
            }
            let v = if f.list {
                json!([])
            } else {
                match &f.ty {
                    FieldType::Enum(_) => enums
                        .get(&f.name)
                        .and_then(|vals| {
                            vals.get((rng.next_u64() % vals.len().max(1) as u64) as usize)
                        })
                        .map_or(Value::Null, |v| json!(v)),
                    FieldType::Shape(_) => json!({}),
                    FieldType::Scalar(s) => match s {
                        ScalarType::Integer => {
                            if f.is_unique {
                                json!(seq)
                            } else {
                                number_for(seq, rng, &f.validators, false)
                            }
                        }
                        ScalarType::Real => number_for(seq, rng, &f.validators, true),
                        ScalarType::Text | ScalarType::File => {
                            json!(text_for(&f.name, seq, &f.validators))
                        }
                        ScalarType::Boolean => json!(rng.bool()),
                        ScalarType::DateTime => json!(format!(
                            "2024-{:02}-{:02}T{:02}:00:00.000Z",
                            (seq / 28) % 12 + 1,
                            seq % 28 + 1,
                            rng.range(0, 23)
                        )),
                        ScalarType::Json => json!({}),
                        ScalarType::Blob => json!("AAAA"),
                    },
                    FieldType::Relation(_) => continue,
                }
            };
            out.insert(f.name.clone(), v);
        }
        out
    }))
}

impl Factory {
    /// A factory for `model` with a hand-written definition.
    pub fn new(
        client: &Client,
        model: &str,
        definition: impl Fn(u64, &mut Rng) -> Map<String, Value> + Send + Sync + 'static,
    ) -> Factory {
        Factory {
            client: client.as_system(),
            model: model.to_string(),
            definition: Arc::new(definition),
            traits: BTreeMap::new(),
            state: Map::new(),
            parents: Vec::new(),
            seq: Arc::new(AtomicU64::new(0)),
            rng: Arc::new(parking_lot::Mutex::new(Rng::new(42))),
            depth: 0,
        }
    }

    /// The zero-config factory of `model` (README `factoryFrom`), built on
    /// [`generate_factory`].
    ///
    /// # Errors
    /// [`Error::UnknownModel`].
    pub fn from_schema(client: &Client, model: &str) -> Result<Factory> {
        let def = generate_factory(client.schema(), model)?;
        let mut f = Factory::new(client, model, move |seq, rng| def(seq, rng));
        f.model = schema_model(client.schema(), model)?.name.clone();
        Ok(f)
    }

    /// The model this factory builds.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Registers the named trait `name` (a set of overrides).
    pub fn define_trait(mut self, name: &str, overrides: Value) -> Factory {
        if let Value::Object(o) = overrides {
            self.traits.insert(name.to_string(), o);
        }
        self
    }

    /// Applies a registered trait (README `users.admin()`).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an unknown trait.
    pub fn with_trait(&self, name: &str) -> Result<Factory> {
        let t = self.traits.get(name).ok_or_else(|| {
            Error::invalid_args(
                "trait",
                format!("no trait `{name}` on the {} factory", self.model),
            )
        })?;
        Ok(self.state(Value::Object(t.clone())))
    }

    /// Overrides fields of every row (README `state`); later calls win.
    pub fn state(&self, overrides: Value) -> Factory {
        let mut f = self.clone();
        if let Value::Object(o) = overrides {
            f.state.extend(o);
        }
        f
    }

    /// Restarts the generator with `seed` (and the sequence at 1): the same
    /// seed builds the same rows.
    pub fn seed(&self, seed: u64) -> Factory {
        let mut f = self.clone();
        f.rng = Arc::new(parking_lot::Mutex::new(Rng::new(seed)));
        f.seq = Arc::new(AtomicU64::new(0));
        f
    }

    /// Rows get `parent` (an existing row) through the belongsTo `relation`
    /// (README `for`).
    pub fn for_parent(&self, relation: &str, parent: &Value) -> Factory {
        let mut f = self.clone();
        f.parents.retain(|(r, _)| r != relation);
        f.parents
            .push((relation.to_string(), Parent::Row(parent.clone())));
        f
    }

    /// Each created row gets a new parent from `parent` through the
    /// belongsTo `relation` (README `withRelation`).
    pub fn with_relation(&self, relation: &str, parent: &Factory) -> Factory {
        let mut f = self.clone();
        f.parents.retain(|(r, _)| r != relation);
        f.parents
            .push((relation.to_string(), Parent::Make(Box::new(parent.clone()))));
        f
    }

    /// One row's data, without writing it.
    pub fn build(&self) -> Value {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let mut row = {
            let mut rng = self.rng.lock();
            (self.definition)(seq, &mut rng)
        };
        row.extend(self.state.clone());
        Value::Object(row)
    }

    /// `n` rows' data, without writing them.
    pub fn build_many(&self, n: usize) -> Vec<Value> {
        (0..n).map(|_| self.build()).collect()
    }

    /// Creates one row (parents first) and returns it as created.
    ///
    /// # Errors
    /// The create's errors.
    pub async fn create_one(&self) -> Result<Value> {
        let mut data = self.build();
        let schema = self.client.schema().clone();
        let m = schema_model(&schema, &self.model)?;
        for f in &m.fields {
            let Some(rel) = f.relation() else { continue };
            let RelationKind::BelongsTo {
                fields, references, ..
            } = &rel.kind
            else {
                continue;
            };
            let keys: Vec<(&str, &str)> = fields
                .iter()
                .zip(references)
                .map(|(a, b)| {
                    (
                        m.field_by_id(*a).name.as_str(),
                        schema.model_by_id(rel.target).field_by_id(*b).name.as_str(),
                    )
                })
                .collect();
            let given = keys
                .iter()
                .all(|(k, _)| data.get(*k).is_some_and(|v| !v.is_null()));
            let parent = match self.parents.iter().find(|(r, _)| r == &f.name) {
                Some((_, Parent::Row(row))) => Some(row.clone()),
                Some((_, Parent::Make(pf))) => Some(Box::pin(pf.create_one()).await?),
                None if !given
                    && keys
                        .iter()
                        .any(|(k, _)| m.field(k).is_some_and(|x| !x.optional))
                    && self.depth < 4 =>
                {
                    let target = &schema.model_by_id(rel.target).name;
                    let mut pf = Factory::from_schema(&self.client, target)?;
                    pf.depth = self.depth + 1;
                    Some(Box::pin(pf.create_one()).await?)
                }
                None => None,
            };
            if let (Some(p), Value::Object(d)) = (parent, &mut data) {
                for (k, r) in keys {
                    d.insert(k.to_string(), p.get(r).cloned().unwrap_or(Value::Null));
                }
            }
        }
        self.client
            .model(&self.model)
            .create(json!({ "data": data }))
            .await
    }

    /// Creates `n` rows, one after the other.
    ///
    /// # Errors
    /// The first create error.
    pub async fn create_many(&self, n: usize) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.create_one().await?);
        }
        Ok(out)
    }

    /// Hard-deletes every row of the factory's model.
    ///
    /// # Errors
    /// SQLite errors.
    pub async fn truncate(&self) -> Result<u64> {
        super::truncate(&self.client, &self.model).await
    }
}
