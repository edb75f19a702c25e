//! The validated, resolved schema: what every later layer (DDL, query
//! compiler, client, migrations) works from.
//!
//! Built only by `schema::validate` from the parsed AST; after validation every
//! reference is resolved to a typed id ([`ModelId`], [`FieldId`], [`EnumId`],
//! [`TypeId`]) so later layers never look names up twice or meet a dangling
//! name. Traits are already spliced, schema-function attributes are already
//! expanded to generated-column expressions, `@map`/`@@map` are already
//! applied (`Field::column`, `Model::table`).
//!
//! This module owns data only: no parsing, no SQL text, no I/O.

use std::collections::HashMap;

use serde_json::Value;

use super::span::Span;

/// Index of a model in [`Schema::models`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelId(pub u32);

/// Index of a field in [`Model::fields`] (local to its model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u32);

/// Index of an enum in [`Schema::enums`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnumId(pub u32);

/// Index of a typed JSON shape in [`Schema::types`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub u32);

/// A whole validated schema (all imports merged).
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Models in declaration order (imports first, depth-first).
    pub models: Vec<Model>,
    /// Enums in declaration order.
    pub enums: Vec<Enum>,
    /// Schema functions (`function slug(text: Text): Text { @@expr("...") }`).
    pub functions: Vec<Function>,
    /// `database name { ... }` blocks.
    pub databases: Vec<Database>,
    /// Typed JSON shapes (`type Address { ... }`).
    pub types: Vec<TypeDef>,
    /// Files the schema was read from (root first), for diagnostics and tooling.
    pub files: Vec<String>,
    /// Name → id lookups, filled by [`Schema::reindex`].
    pub model_index: HashMap<String, ModelId>,
    /// Name → id lookups, filled by [`Schema::reindex`].
    pub enum_index: HashMap<String, EnumId>,
    /// Name → id lookups, filled by [`Schema::reindex`].
    pub type_index: HashMap<String, TypeId>,
}

impl Schema {
    /// Rebuilds the name lookups of the schema and of every model.
    pub fn reindex(&mut self) {
        self.model_index = self
            .models
            .iter()
            .enumerate()
            .map(|(i, m)| (m.name.clone(), ModelId(i as u32)))
            .collect();
        self.enum_index = self
            .enums
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), EnumId(i as u32)))
            .collect();
        self.type_index = self
            .types
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), TypeId(i as u32)))
            .collect();
        for m in &mut self.models {
            m.reindex();
        }
    }

    /// The model called `name`.
    pub fn model(&self, name: &str) -> Option<&Model> {
        self.model_index
            .get(name)
            .map(|id| &self.models[id.0 as usize])
    }

    /// The id of the model called `name`.
    pub fn model_id(&self, name: &str) -> Option<ModelId> {
        self.model_index.get(name).copied()
    }

    /// The model with id `id`.
    pub fn model_by_id(&self, id: ModelId) -> &Model {
        &self.models[id.0 as usize]
    }

    /// The enum called `name`.
    pub fn enum_named(&self, name: &str) -> Option<&Enum> {
        self.enum_index
            .get(name)
            .map(|id| &self.enums[id.0 as usize])
    }

    /// The enum with id `id`.
    pub fn enum_by_id(&self, id: EnumId) -> &Enum {
        &self.enums[id.0 as usize]
    }

    /// The typed JSON shape with id `id`.
    pub fn type_by_id(&self, id: TypeId) -> &TypeDef {
        &self.types[id.0 as usize]
    }

    /// The `database` block called `name`.
    pub fn database(&self, name: &str) -> Option<&Database> {
        self.databases.iter().find(|d| d.name == name)
    }

    /// The `@@auth` model (at most one; validation refuses more).
    pub fn auth_model(&self) -> Option<&Model> {
        self.models.iter().find(|m| m.is_auth)
    }

    /// The schema function called `name`.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }
}

/// A `model` block.
#[derive(Debug, Clone)]
pub struct Model {
    /// Its id.
    pub id: ModelId,
    /// Name as written (the accessor name: `client.model("users")`).
    pub name: String,
    /// Table name (`@@map("...")` or the name).
    pub table: String,
    /// `///` doc comment lines joined with `\n`.
    pub doc: Option<String>,
    /// Fields in declaration order (trait fields spliced where `@@trait` stood).
    pub fields: Vec<Field>,
    /// Primary key fields (`@id`, or `@@id([a, b])`). Empty only for
    /// `@@external` models without an id.
    pub primary_key: Vec<FieldId>,
    /// UNIQUE constraints: one per `@unique` field and one per `@@unique`.
    pub uniques: Vec<UniqueConstraint>,
    /// `@@index` declarations.
    pub indexes: Vec<Index>,
    /// `@@softDelete` / `@@softDelete(cascade)`.
    pub soft_delete: Option<SoftDelete>,
    /// `@@fts([a, b])`.
    pub fts: Option<Fts>,
    /// STRICT table (false with `@@noStrict`).
    pub strict: bool,
    /// `@@external`: queryable, never created or migrated.
    pub external: bool,
    /// `@@db(name)`; `None` routes to the main database.
    pub database: Option<String>,
    /// `@@allow` / `@@deny` row policies in declaration order.
    pub policies: Vec<Policy>,
    /// `@@gate("R.C.U.D")` levels.
    pub gate: Option<Gate>,
    /// `@@log(dbName)`.
    pub log: Option<String>,
    /// `@@auth`: the auth subject model.
    pub is_auth: bool,
    /// Names of the traits spliced in with `@@trait(T)`.
    pub traits: Vec<String>,
    /// Every model attribute as written, for tooling and future features.
    pub attributes: Vec<Attribute>,
    /// Where the model is declared.
    pub span: Span,
    /// Field name → id, filled by [`Model::reindex`].
    pub field_index: HashMap<String, FieldId>,
}

impl Model {
    /// Rebuilds the field name lookup.
    pub fn reindex(&mut self) {
        self.field_index = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), FieldId(i as u32)))
            .collect();
    }

    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.field_index
            .get(name)
            .map(|id| &self.fields[id.0 as usize])
    }

    /// The id of the field called `name`.
    pub fn field_id(&self, name: &str) -> Option<FieldId> {
        self.field_index.get(name).copied()
    }

    /// The field with id `id`.
    pub fn field_by_id(&self, id: FieldId) -> &Field {
        &self.fields[id.0 as usize]
    }

    /// Fields stored as table columns (no relations, `@from` or `@computed`),
    /// in declaration order.
    pub fn columns(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.is_column())
    }

    /// Relation fields, in declaration order.
    pub fn relations(&self) -> impl Iterator<Item = (&Field, &Relation)> {
        self.fields.iter().filter_map(|f| match &f.ty {
            FieldType::Relation(r) => Some((f, r)),
            _ => None,
        })
    }

    /// The single primary key field, when the key is one column.
    pub fn single_pk(&self) -> Option<&Field> {
        match self.primary_key.as_slice() {
            [id] => Some(self.field_by_id(*id)),
            _ => None,
        }
    }
}

/// A field of a model.
#[derive(Debug, Clone)]
pub struct Field {
    /// Its id within the model.
    pub id: FieldId,
    /// Name as written (the JSON key).
    pub name: String,
    /// Column name (`@map("...")` or the name).
    pub column: String,
    /// `///` doc comment.
    pub doc: Option<String>,
    /// Its type.
    pub ty: FieldType,
    /// `Type?`.
    pub optional: bool,
    /// `Type[]` (stored as a JSON array for scalars; to-many for relations).
    pub list: bool,
    /// `@id`.
    pub is_id: bool,
    /// `@unique`.
    pub is_unique: bool,
    /// `@default(...)`.
    pub default: Option<DefaultValue>,
    /// `@updatedAt`.
    pub updated_at: bool,
    /// `@updatedBy` / `@updatedBy(auth().field)`: the auth path to stamp.
    pub updated_by: Option<Vec<String>>,
    /// `@generated("expr")` or a schema-function attribute, expanded to SQL.
    pub generated: Option<Generated>,
    /// `@sequence(scope: field)`.
    pub sequence: Option<Sequence>,
    /// `@omit` / `@omit(all)`.
    pub omit: Visibility,
    /// `@guarded` / `@guarded(all)` (also implied by `@encrypted`, `@secret`).
    pub guarded: Visibility,
    /// `@encrypted` / `@encrypted(searchable: true)` / `@secret`.
    pub encrypted: Option<Encrypted>,
    /// `@log(dbName)` (also implied by `@secret`).
    pub log: Option<String>,
    /// `@allow('read'|'write'|'all', expr)` field policies.
    pub policies: Vec<Policy>,
    /// Validators, in declaration order.
    pub validators: Vec<Validator>,
    /// Transforms, in declaration order (applied before validators).
    pub transforms: Vec<Transform>,
    /// `@from(relation, ...)` derived field (not a column).
    pub from: Option<Derived>,
    /// `@computed` (not a column; produced by application code).
    pub computed: bool,
    /// `@hardDelete`.
    pub hard_delete: bool,
    /// `@markdown`.
    pub markdown: bool,
    /// `@keepVersions` (File fields).
    pub keep_versions: bool,
    /// `@accept("mime/type,...")` (File fields).
    pub accept: Option<String>,
    /// Every field attribute as written.
    pub attributes: Vec<Attribute>,
    /// Where the field is declared.
    pub span: Span,
}

impl Field {
    /// Whether the field is a stored table column.
    pub fn is_column(&self) -> bool {
        !matches!(self.ty, FieldType::Relation(_)) && self.from.is_none() && !self.computed
    }

    /// The relation, when this is a relation field.
    pub fn relation(&self) -> Option<&Relation> {
        match &self.ty {
            FieldType::Relation(r) => Some(r),
            _ => None,
        }
    }

    /// The scalar type, when this is a scalar column (lists included).
    pub fn scalar(&self) -> Option<ScalarType> {
        match &self.ty {
            FieldType::Scalar(s) => Some(*s),
            _ => None,
        }
    }
}

/// Built-in scalar types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarType {
    /// `Integer` → INTEGER.
    Integer,
    /// `Real` → REAL.
    Real,
    /// `Text` → TEXT.
    Text,
    /// `Boolean` → INTEGER 0/1.
    Boolean,
    /// `DateTime` → TEXT, ISO-8601 UTC.
    DateTime,
    /// `Json` → TEXT holding JSON.
    Json,
    /// `Blob` → BLOB.
    Blob,
    /// `File` → TEXT holding a JSON file reference.
    File,
}

impl ScalarType {
    /// Parses a built-in type name.
    pub fn from_name(name: &str) -> Option<ScalarType> {
        Some(match name {
            "Integer" => ScalarType::Integer,
            "Real" => ScalarType::Real,
            "Text" => ScalarType::Text,
            "Boolean" => ScalarType::Boolean,
            "DateTime" => ScalarType::DateTime,
            "Json" => ScalarType::Json,
            "Blob" => ScalarType::Blob,
            "File" => ScalarType::File,
            _ => return None,
        })
    }

    /// The schema name of the type.
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::Integer => "Integer",
            ScalarType::Real => "Real",
            ScalarType::Text => "Text",
            ScalarType::Boolean => "Boolean",
            ScalarType::DateTime => "DateTime",
            ScalarType::Json => "Json",
            ScalarType::Blob => "Blob",
            ScalarType::File => "File",
        }
    }

    /// The SQLite column type (for a non-list field).
    pub fn sql_type(self) -> &'static str {
        match self {
            ScalarType::Integer | ScalarType::Boolean => "INTEGER",
            ScalarType::Real => "REAL",
            ScalarType::Text | ScalarType::DateTime | ScalarType::Json | ScalarType::File => "TEXT",
            ScalarType::Blob => "BLOB",
        }
    }
}

/// The type of a field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    /// A built-in scalar.
    Scalar(ScalarType),
    /// An enum: TEXT + CHECK.
    Enum(EnumId),
    /// A typed JSON shape (`type Address { ... }`): TEXT JSON, validated on write.
    Shape(TypeId),
    /// A relation to another model.
    Relation(Relation),
}

/// A relation field, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    /// The model on the other side.
    pub target: ModelId,
    /// `@relation("name")` / `@relation(name: "...")`, used to pair
    /// back-relations when two models relate more than once.
    pub name: Option<String>,
    /// What kind of relation, with its keys.
    pub kind: RelationKind,
}

/// The kinds of relations.
#[derive(Debug, Clone, PartialEq)]
pub enum RelationKind {
    /// This model holds the foreign key (`@relation(fields, references)`).
    BelongsTo {
        /// Local FK fields.
        fields: Vec<FieldId>,
        /// Referenced fields on the target.
        references: Vec<FieldId>,
        /// ON DELETE action.
        on_delete: Option<ReferentialAction>,
        /// ON UPDATE action.
        on_update: Option<ReferentialAction>,
    },
    /// The target holds the foreign key and several rows may point here
    /// (`posts posts[]`).
    HasMany {
        /// The BelongsTo field on the target that this is the inverse of.
        inverse: FieldId,
    },
    /// The target holds a UNIQUE foreign key (`profile profiles?`).
    HasOne {
        /// The BelongsTo field on the target that this is the inverse of.
        inverse: FieldId,
    },
    /// Many-to-many through a join table.
    ManyToMany(JoinTable),
}

/// The join table of a many-to-many relation.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinTable {
    /// Table name (implicit: `_<a>To<b>` with the two model names in byte
    /// order, or `_<name>` for a relation named with `@relation("name")`;
    /// explicit: the join model's table).
    pub table: String,
    /// The explicit join model, when there is one.
    pub model: Option<ModelId>,
    /// Column in the join table pointing at this model (implicit tables:
    /// `A` or `B`; `A` references the model whose name sorts first, or for a
    /// self-relation the field whose name sorts first).
    pub source_column: String,
    /// Field of this model that `source_column` references (its primary key).
    pub source_ref: FieldId,
    /// Column in the join table pointing at the target model.
    pub target_column: String,
    /// Field of the target that `target_column` references (its primary key).
    pub target_ref: FieldId,
    /// Whether litestone creates this table (implicit join tables).
    pub implicit: bool,
}

/// ON DELETE / ON UPDATE actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferentialAction {
    /// CASCADE.
    Cascade,
    /// RESTRICT.
    Restrict,
    /// NO ACTION.
    NoAction,
    /// SET NULL.
    SetNull,
    /// SET DEFAULT.
    SetDefault,
}

impl ReferentialAction {
    /// The SQL keyword(s).
    pub fn sql(self) -> &'static str {
        match self {
            ReferentialAction::Cascade => "CASCADE",
            ReferentialAction::Restrict => "RESTRICT",
            ReferentialAction::NoAction => "NO ACTION",
            ReferentialAction::SetNull => "SET NULL",
            ReferentialAction::SetDefault => "SET DEFAULT",
        }
    }
}

/// `@default(...)`.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// A literal: string, number, boolean, or an enum value (as a string).
    Literal(Value),
    /// `now()`.
    Now,
    /// `uuid()`.
    Uuid,
    /// `ulid()`.
    Ulid,
    /// `nanoid()`.
    Nanoid,
    /// `autoincrement()`.
    Autoincrement,
    /// `auth().a.b`: path under the auth object (empty = `auth()` itself; `["id"]` for `auth().id`).
    Auth(Vec<String>),
    /// `@default(otherField)`: copy a sibling field on create.
    Field(FieldId),
    /// `env("VAR", "fallback")`, resolved when the client opens.
    Env {
        /// Variable name.
        var: String,
        /// Fallback when unset.
        fallback: Option<Value>,
    },
    /// `dbgenerated("sql")` / a raw SQL expression default.
    Sql(String),
}

/// A generated column.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// SQL expression over column names (already quoted by the expander).
    pub expr: String,
    /// STORED (true) or VIRTUAL.
    pub stored: bool,
    /// The schema function it came from, if any.
    pub function: Option<String>,
}

/// `@sequence(scope: field)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    /// The scope field (`None` = one counter per table).
    pub scope: Option<FieldId>,
}

/// Visibility levels of `@omit` / `@guarded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Visibility {
    /// Not applied.
    #[default]
    None,
    /// `@omit` / `@guarded`: hidden from list reads (findMany/findFirst).
    Default,
    /// `@omit(all)` / `@guarded(all)`: hidden everywhere.
    All,
}

/// `@encrypted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encrypted {
    /// `searchable: true` (HMAC-indexed equality).
    pub searchable: bool,
}

/// A field validator.
#[derive(Debug, Clone, PartialEq)]
pub enum Validator {
    /// `@email`.
    Email,
    /// `@url`.
    Url,
    /// `@date`.
    Date,
    /// `@datetime`.
    DateTime,
    /// `@phone`.
    Phone,
    /// `@regex(pattern)`.
    Regex(String),
    /// `@length(min, max)`.
    Length {
        /// Minimum length in characters.
        min: Option<u64>,
        /// Maximum length in characters.
        max: Option<u64>,
    },
    /// `@gt(n)`.
    Gt(f64),
    /// `@gte(n)`.
    Gte(f64),
    /// `@lt(n)`.
    Lt(f64),
    /// `@lte(n)`.
    Lte(f64),
    /// `@startsWith(s)`.
    StartsWith(String),
    /// `@endsWith(s)`.
    EndsWith(String),
    /// `@contains(s)`.
    Contains(String),
}

/// A transform applied before validation and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// `@trim`.
    Trim,
    /// `@lower`.
    Lower,
    /// `@upper`.
    Upper,
    /// `@slug` (without arguments: slugify the value itself).
    Slug,
}

/// `@from(relation, count: true | sum: field | ..., where: "sql")`.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    /// The relation field (on this model) to aggregate over.
    pub relation: FieldId,
    /// The aggregation.
    pub agg: DerivedAgg,
    /// Optional SQL filter over the related table's columns.
    pub filter: Option<String>,
    /// The related model (the one aggregated over).
    pub target: ModelId,
    /// The BelongsTo field on [`target`](Self::target) whose foreign key points
    /// at this model's rows, when related rows are found through it (a
    /// HasMany/HasOne relation, or the model-name form). `None` when
    /// `relation` is this model's own BelongsTo or a ManyToMany.
    pub inverse: Option<FieldId>,
    /// Written with a model name (`@from(orders, sum: amount)`) and this model
    /// declares no back-relation field to it: then `relation` is the derived
    /// field's own id and only `target` / `inverse` describe the link.
    pub via_model: bool,
}

/// Aggregations of `@from`.
#[derive(Debug, Clone, PartialEq)]
pub enum DerivedAgg {
    /// `count: true`.
    Count,
    /// `sum: field` (field of the target model).
    Sum(FieldId),
    /// `max: field`.
    Max(FieldId),
    /// `min: field`.
    Min(FieldId),
    /// `first: true` / `first: field` (by primary key; the whole row as JSON when no field).
    First(Option<FieldId>),
    /// `last: true` / `last: field`.
    Last(Option<FieldId>),
    /// `exists: true`.
    Exists,
}

/// `@@softDelete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoftDelete {
    /// The `deletedAt DateTime?` field.
    pub field: FieldId,
    /// `@@softDelete(cascade)`.
    pub cascade: bool,
}

/// `@@fts([a, b])`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fts {
    /// Indexed fields.
    pub fields: Vec<FieldId>,
    /// Name of the FTS5 virtual table (`<table>_fts`; on an `@@external`
    /// model, the model's own table, which is then an FTS5 table itself).
    pub table: String,
}

/// A UNIQUE constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct UniqueConstraint {
    /// Fields, in order.
    pub fields: Vec<FieldId>,
    /// `name:` / `map:` argument, if given.
    pub name: Option<String>,
}

/// An index.
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    /// Fields, in order.
    pub fields: Vec<FieldId>,
    /// Index name (given, or derived: `<table>_<col>_<col>_idx`).
    pub name: String,
    /// Partial index predicate (SQL), e.g. `"deletedAt" IS NULL` on soft-delete models.
    pub predicate: Option<String>,
}

/// `@@gate("R.C.U.D")`: required levels per operation (0–9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    /// Level to read.
    pub read: u8,
    /// Level to create.
    pub create: u8,
    /// Level to update.
    pub update: u8,
    /// Level to delete.
    pub delete: u8,
}

/// Operations a policy applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyOp {
    /// `'read'`.
    Read,
    /// `'create'`.
    Create,
    /// `'update'`.
    Update,
    /// `'delete'`.
    Delete,
    /// `'write'` (field policies: create + update).
    Write,
    /// `'all'`.
    All,
}

/// `@@allow` / `@@deny` / `@allow`.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Allow or deny.
    pub effect: PolicyEffect,
    /// Operations covered (`'read,update'` lists several).
    pub ops: Vec<PolicyOp>,
    /// The condition.
    pub expr: Expr,
    /// Custom error message.
    pub message: Option<String>,
    /// Where the attribute is.
    pub span: Span,
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyEffect {
    /// `@@allow` / `@allow`.
    Allow,
    /// `@@deny`.
    Deny,
}

/// A policy expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal (string, number, boolean, null).
    Literal(Value),
    /// A field of the current model, possibly through to-one relations (`author.id`).
    Field(Vec<String>),
    /// `auth()` (empty path) or `auth().a.b`.
    Auth(Vec<String>),
    /// `now()`.
    Now,
    /// `check(relation, expr)`: the related row(s) satisfy `expr`.
    Check {
        /// Relation field name on the current model.
        relation: String,
        /// Condition evaluated on the related model.
        expr: Box<Expr>,
    },
    /// `!e`.
    Not(Box<Expr>),
    /// `a op b`.
    Binary {
        /// Operator.
        op: BinaryOp,
        /// Left side.
        left: Box<Expr>,
        /// Right side.
        right: Box<Expr>,
    },
}

/// Binary operators of policy expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `&&`.
    And,
    /// `||`.
    Or,
}

/// An `enum` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Enum {
    /// Its id.
    pub id: EnumId,
    /// Name.
    pub name: String,
    /// Values in order.
    pub values: Vec<String>,
    /// Doc comment.
    pub doc: Option<String>,
    /// Where it is declared.
    pub span: Span,
}

/// A `function` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// Name (used as `@name(args)`).
    pub name: String,
    /// Parameters: name and type name.
    pub params: Vec<(String, String)>,
    /// Return type name.
    pub returns: String,
    /// The `@@expr("...")` template with `{param}` placeholders.
    pub expr: String,
    /// Where it is declared.
    pub span: Span,
}

/// Storage drivers of `database` blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Driver {
    /// A SQLite file (default).
    #[default]
    Sqlite,
    /// Append-only JSONL files.
    Jsonl,
    /// Auto-schema audit logger.
    Logger,
}

/// A `database name { path ...; driver ...; retention ... }` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    /// Name (`main` is the default database).
    pub name: String,
    /// `path "..."` or `path env("VAR", "default")`, unresolved.
    pub path: Option<ConfigValue>,
    /// `driver ...`.
    pub driver: Driver,
    /// `retention 30d`, as written.
    pub retention: Option<String>,
    /// Where it is declared.
    pub span: Span,
}

/// A configuration value that may come from the environment.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    /// A literal string.
    Literal(String),
    /// `env("VAR", "default")`.
    Env {
        /// Variable name.
        var: String,
        /// Fallback when unset.
        fallback: Option<String>,
    },
}

impl ConfigValue {
    /// Resolves against the process environment.
    pub fn resolve(&self) -> Option<String> {
        match self {
            ConfigValue::Literal(s) => Some(s.clone()),
            ConfigValue::Env { var, fallback } => {
                std::env::var(var).ok().or_else(|| fallback.clone())
            }
        }
    }
}

/// A typed JSON shape (`type Address { street Text  city Text  zip Text? }`).
#[derive(Debug, Clone, PartialEq)]
pub struct TypeDef {
    /// Its id.
    pub id: TypeId,
    /// Name.
    pub name: String,
    /// Fields of the shape.
    pub fields: Vec<ShapeField>,
    /// Where it is declared.
    pub span: Span,
}

/// A field of a typed JSON shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapeField {
    /// Key.
    pub name: String,
    /// Type (scalars, enums or nested shapes; no relations).
    pub ty: FieldType,
    /// `?`.
    pub optional: bool,
    /// `[]`.
    pub list: bool,
    /// Validators on the key.
    pub validators: Vec<Validator>,
}

/// An attribute as written (`@name(args)` / `@@name(args)`), kept for
/// tooling and for attributes later layers interpret themselves.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// Name without the `@`/`@@`.
    pub name: String,
    /// Arguments.
    pub args: Vec<AttributeArg>,
    /// Where it is.
    pub span: Span,
}

/// One argument of an attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeArg {
    /// `name:` for named arguments.
    pub name: Option<String>,
    /// The value.
    pub value: ArgValue,
}

/// Attribute argument values.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    /// `"text"` or `'text'`.
    String(String),
    /// `42`, `-1.5`.
    Number(f64),
    /// `true` / `false`.
    Bool(bool),
    /// A bare identifier (`Cascade`, `accountId`, an enum value).
    Ident(String),
    /// A dotted path (`auth().id` is a Call with a path; `a.b` is this).
    Path(Vec<String>),
    /// `[a, b]`.
    Array(Vec<ArgValue>),
    /// `now()`, `env("X", "y")`, `auth().field` (path after the call).
    Call {
        /// Function name.
        name: String,
        /// Arguments.
        args: Vec<ArgValue>,
        /// Member path after the call (`auth().accountId` → `["accountId"]`).
        path: Vec<String>,
    },
    /// A policy expression (first argument of `@@allow`/`@@deny`/`@allow` after the op).
    Expr(Expr),
}
