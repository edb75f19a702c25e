//! Parser and validator tests, one per construct of the `.lite` language.

#![allow(clippy::unwrap_used)]

use litestone::schema::{self, *};
use serde_json::json;

fn ok(src: &str) -> Schema {
    match schema::parse(src) {
        Ok(s) => s,
        Err(Error::Schema { diagnostics, .. }) => panic!(
            "unexpected errors:\n{}",
            diagnostics
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
        Err(e) => panic!("{e}"),
    }
}

use litestone::Error;

fn errors(src: &str) -> Vec<String> {
    match schema::parse(src) {
        Ok(_) => panic!("expected errors"),
        Err(Error::Schema { diagnostics, .. }) => diagnostics
            .iter()
            .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
            .collect(),
        Err(e) => panic!("{e}"),
    }
}

fn field<'a>(s: &'a Schema, model: &str, name: &str) -> &'a Field {
    s.model(model).unwrap().field(name).unwrap()
}

#[test]
fn empty_schema_and_comments() {
    let s = ok("// nothing here\n/* block */\n");
    assert!(s.models.is_empty());
}

#[test]
fn one_line_model() {
    let s = ok("model users { id Integer @id  email Text @unique }");
    let m = s.model("users").unwrap();
    assert_eq!(m.fields.len(), 2);
    assert!(field(&s, "users", "email").is_unique);
    assert_eq!(m.uniques.len(), 1);
}

#[test]
fn doc_comments_attach_to_the_next_item() {
    let s = ok(
        "/// All users.\n/// Second line.\nmodel users {\n  /// The key.\n  id Integer @id\n  // plain comment\n  name Text\n}\n/// Roles.\nenum Role { a b }",
    );
    let m = s.model("users").unwrap();
    assert_eq!(m.doc.as_deref(), Some("All users.\nSecond line."));
    assert_eq!(field(&s, "users", "id").doc.as_deref(), Some("The key."));
    assert_eq!(field(&s, "users", "name").doc, None);
    assert_eq!(s.enum_named("Role").unwrap().doc.as_deref(), Some("Roles."));
}

#[test]
fn enums_with_and_without_commas() {
    let s = ok("enum Plan { starter  pro  enterprise }\nenum Role {\n  admin,\n  member\n}");
    assert_eq!(
        s.enum_named("Plan").unwrap().values,
        ["starter", "pro", "enterprise"]
    );
    assert_eq!(s.enum_named("Role").unwrap().values, ["admin", "member"]);
}

#[test]
fn scalar_list_optional_and_enum_types() {
    let s = ok(r#"
        enum Role { admin member }
        model t {
          id Integer @id
          i  Integer
          r  Real?
          x  Text
          b  Boolean
          d  DateTime?
          j  Json
          bl Blob?
          f  File?
          fs File[]
          tags Text[]
          role Role
          roles Role[]
        }
    "#);
    let t = s.model("t").unwrap();
    assert_eq!(t.fields.len(), 13);
    assert_eq!(field(&s, "t", "r").ty, FieldType::Scalar(ScalarType::Real));
    assert!(field(&s, "t", "r").optional);
    assert!(field(&s, "t", "fs").list);
    assert_eq!(field(&s, "t", "fs").ty, FieldType::Scalar(ScalarType::File));
    assert!(matches!(field(&s, "t", "role").ty, FieldType::Enum(_)));
    assert!(field(&s, "t", "roles").list);
}

#[test]
fn typed_json_shapes() {
    let s = ok(r#"
        type Address {
          street Text
          city   Text  @length(1, 80)
          zip    Text?
        }
        type Person { name Text  home Address  past Address[] }
        model users {
          id      Integer @id
          address Address?
          people  Person[]
        }
    "#);
    let a = s.type_by_id(TypeId(0));
    assert_eq!(a.name, "Address");
    assert_eq!(a.fields.len(), 3);
    assert_eq!(
        a.fields[1].validators,
        vec![Validator::Length {
            min: Some(1),
            max: Some(80)
        }]
    );
    assert!(a.fields[2].optional);
    let p = s.type_by_id(TypeId(1));
    assert_eq!(p.fields[1].ty, FieldType::Shape(TypeId(0)));
    assert!(p.fields[2].list);
    assert_eq!(
        field(&s, "users", "address").ty,
        FieldType::Shape(TypeId(0))
    );
    assert!(field(&s, "users", "address").is_column());
}

#[test]
fn traits_are_spliced_where_written() {
    let s = ok(r#"
        trait Timestamps {
          createdAt DateTime @default(now())
          updatedAt DateTime @updatedAt
        }
        trait SoftDeletable {
          deletedAt DateTime?
          @@softDelete
        }
        trait Everything {
          @@trait(Timestamps)
          @@trait(SoftDeletable)
        }
        model posts {
          id    Integer @id
          @@trait(Everything)
          title Text
        }
    "#);
    let m = s.model("posts").unwrap();
    let names: Vec<&str> = m.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["id", "createdAt", "updatedAt", "deletedAt", "title"]
    );
    assert!(m.soft_delete.is_some());
    assert_eq!(m.traits, ["Everything", "Timestamps", "SoftDeletable"]);
    assert!(field(&s, "posts", "updatedAt").updated_at);
}

#[test]
fn trait_cycles_are_reported() {
    let errs = errors(
        "trait A { @@trait(B) }\ntrait B { @@trait(A) }\nmodel m { id Integer @id  @@trait(A) }",
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("includes itself"), "{errs:?}");
}

#[test]
fn database_blocks() {
    let s = ok(r#"
        database main      { path env("MAIN_DB", "./app.db") }
        database analytics { path env("ANALYTICS_DB") }
        database logs      { path "./logs/"; driver jsonl; retention 30d }
        database audit {
          path "./audit/"
          driver logger
          retention 90d
        }
        model a { id Integer @id  @@db(analytics) }
        model b { id Integer @id  @@db(main) }
        model c { id Integer @id }
        model d { msg Text  @@db(logs) }
    "#);
    assert_eq!(s.databases.len(), 4);
    let main = s.database("main").unwrap();
    assert_eq!(
        main.path,
        Some(ConfigValue::Env {
            var: "MAIN_DB".into(),
            fallback: Some("./app.db".into())
        })
    );
    let logs = s.database("logs").unwrap();
    assert_eq!(logs.driver, Driver::Jsonl);
    assert_eq!(logs.retention.as_deref(), Some("30d"));
    assert_eq!(logs.path, Some(ConfigValue::Literal("./logs/".into())));
    assert_eq!(s.database("audit").unwrap().driver, Driver::Logger);
    assert_eq!(s.model("a").unwrap().database.as_deref(), Some("analytics"));
    assert_eq!(s.model("b").unwrap().database, None);
    assert_eq!(s.model("c").unwrap().database, None);
    // A jsonl model needs no primary key.
    assert!(s.model("d").unwrap().primary_key.is_empty());
}

#[test]
fn schema_functions_expand_to_stored_generated_columns() {
    let s = ok(r#"
        function slug(text: Text): Text {
          @@expr("lower(trim(replace({text}, ' ', '-')))")
        }
        function fullName(first: Text, last: Text): Text {
          @@expr("COALESCE({first}, '') || ' ' || COALESCE({last}, '')")
        }
        model users {
          id          Integer @id
          firstName   Text?   @map("first_name")
          lastName    Text?
          displayName Text    @fullName(firstName, lastName)
          handle      Text    @slug(displayName)
          plain       Text    @slug
        }
    "#);
    let f = s.function("fullName").unwrap();
    assert_eq!(
        f.params,
        [
            ("first".into(), "Text".into()),
            ("last".into(), "Text".into())
        ]
    );
    assert_eq!(f.returns, "Text");
    let g = field(&s, "users", "displayName").generated.clone().unwrap();
    assert_eq!(
        g,
        Generated {
            expr: r#"COALESCE("first_name", '') || ' ' || COALESCE("lastName", '')"#.into(),
            stored: true,
            function: Some("fullName".into()),
        }
    );
    assert_eq!(
        field(&s, "users", "handle")
            .generated
            .as_ref()
            .unwrap()
            .expr,
        r#"lower(trim(replace("displayName", ' ', '-')))"#
    );
    // Without arguments `@slug` is the transform.
    let plain = field(&s, "users", "plain");
    assert!(plain.generated.is_none());
    assert_eq!(plain.transforms, [Transform::Slug]);
}

#[test]
fn generated_columns() {
    let s = ok(r#"
        model t {
          id Integer @id
          a  Integer
          b  Integer @generated("a * 2")
          c  Integer @generated("a * 3", virtual)
          d  Integer @generated("a * 4", stored: false)
        }
    "#);
    assert!(field(&s, "t", "b").generated.as_ref().unwrap().stored);
    assert!(!field(&s, "t", "c").generated.as_ref().unwrap().stored);
    assert!(!field(&s, "t", "d").generated.as_ref().unwrap().stored);
}

#[test]
fn defaults() {
    let s = ok(r#"
        enum Plan { starter pro }
        model t {
          id     Text     @id @default(uuid())
          u      Text     @default(ulid())
          n      Text     @default(nanoid())
          at     DateTime @default(now())
          plan   Plan     @default(starter)
          plan2  Plan     @default("pro")
          on     Boolean  @default(true)
          count  Integer  @default(42)
          neg    Integer  @default(-1)
          ratio  Real     @default(1.5)
          title  Text     @default("draft")
          owner  Integer  @default(auth().id)
          who    Json?    @default(auth())
          copy   Text     @default(title)
          secret Text     @default(env("SECRET", "dev"))
          raw    Integer  @default(dbgenerated("abs(random()) % 10"))
          tags   Text[]   @default([])
          opt    Text?    @default(null)
        }
    "#);
    let d = |n: &str| field(&s, "t", n).default.clone().unwrap();
    assert_eq!(d("id"), DefaultValue::Uuid);
    assert_eq!(d("u"), DefaultValue::Ulid);
    assert_eq!(d("n"), DefaultValue::Nanoid);
    assert_eq!(d("at"), DefaultValue::Now);
    assert_eq!(d("plan"), DefaultValue::Literal(json!("starter")));
    assert_eq!(d("plan2"), DefaultValue::Literal(json!("pro")));
    assert_eq!(d("on"), DefaultValue::Literal(json!(true)));
    assert_eq!(d("count"), DefaultValue::Literal(json!(42)));
    assert_eq!(d("neg"), DefaultValue::Literal(json!(-1)));
    assert_eq!(d("ratio"), DefaultValue::Literal(json!(1.5)));
    assert_eq!(d("title"), DefaultValue::Literal(json!("draft")));
    assert_eq!(d("owner"), DefaultValue::Auth(vec!["id".into()]));
    assert_eq!(d("who"), DefaultValue::Auth(vec![]));
    let title = s.model("t").unwrap().field_id("title").unwrap();
    assert_eq!(d("copy"), DefaultValue::Field(title));
    assert_eq!(
        d("secret"),
        DefaultValue::Env {
            var: "SECRET".into(),
            fallback: Some(json!("dev"))
        }
    );
    assert_eq!(d("raw"), DefaultValue::Sql("abs(random()) % 10".into()));
    assert_eq!(d("tags"), DefaultValue::Literal(json!([])));
    assert_eq!(d("opt"), DefaultValue::Literal(json!(null)));
}

#[test]
fn field_attributes() {
    let s = ok(r#"
        database audit { path "./audit/"; driver logger }
        model t {
          id        Integer  @id
          accountId Integer
          updatedAt DateTime @updatedAt
          editor    Integer? @updatedBy
          editor2   Text?    @updatedBy(auth().email)
          num       Integer  @sequence(scope: accountId)
          global    Integer  @sequence
          col       Text     @map("the_col")
          o1        Text     @omit
          o2        Text     @omit(all)
          g1        Text     @guarded
          g2        Text     @guarded(all)
          e1        Text     @encrypted
          e2        Text     @encrypted(searchable: true)
          sec       Text     @secret
          salary    Real?    @allow('read', auth().role == 'admin')
          logged    Text     @log(audit)
          f1        File?    @keepVersions
          f2        File[]   @accept("image/*")
          md        Text     @markdown
          hd        Boolean  @hardDelete
          c         Text     @computed
        }
    "#);
    let f = |n: &str| field(&s, "t", n);
    assert!(f("updatedAt").updated_at);
    assert_eq!(f("editor").updated_by, Some(vec!["id".to_string()]));
    assert_eq!(f("editor2").updated_by, Some(vec!["email".to_string()]));
    let account = s.model("t").unwrap().field_id("accountId");
    assert_eq!(f("num").sequence, Some(Sequence { scope: account }));
    assert_eq!(f("global").sequence, Some(Sequence { scope: None }));
    assert_eq!(f("col").column, "the_col");
    assert_eq!(f("o1").omit, Visibility::Default);
    assert_eq!(f("o2").omit, Visibility::All);
    assert_eq!(f("g1").guarded, Visibility::Default);
    assert_eq!(f("g2").guarded, Visibility::All);
    assert_eq!(f("e1").encrypted, Some(Encrypted { searchable: false }));
    assert_eq!(f("e1").guarded, Visibility::All);
    assert_eq!(f("e2").encrypted, Some(Encrypted { searchable: true }));
    assert_eq!(f("sec").encrypted, Some(Encrypted { searchable: false }));
    assert_eq!(f("sec").guarded, Visibility::All);
    assert_eq!(f("sec").log.as_deref(), Some("audit"));
    let p = &f("salary").policies[0];
    assert_eq!(p.ops, [PolicyOp::Read]);
    assert_eq!(
        p.expr,
        Expr::Binary {
            op: BinaryOp::Eq,
            left: Box::new(Expr::Auth(vec!["role".into()])),
            right: Box::new(Expr::Literal(json!("admin"))),
        }
    );
    assert_eq!(f("logged").log.as_deref(), Some("audit"));
    assert!(f("f1").keep_versions);
    assert_eq!(f("f2").accept.as_deref(), Some("image/*"));
    assert!(f("md").markdown);
    assert!(f("hd").hard_delete);
    assert!(f("c").computed);
    assert!(!f("c").is_column());
    assert_eq!(f("sec").attributes[0].name, "secret");
}

#[test]
fn validators_and_transforms() {
    let s = ok(r#"
        model t {
          id    Integer @id
          email Text    @email @lower @trim
          site  Text    @url
          day   Text    @date
          ts    Text    @datetime
          tel   Text    @phone @upper
          code  Text    @regex("^[A-Z]{3}$")
          name  Text    @length(2, 50)
          nick  Text    @length(min: 3)
          age   Integer @gt(0) @gte(1) @lt(200) @lte(150)
          sku   Text    @startsWith("SKU-") @endsWith("-X") @contains("-")
        }
    "#);
    let f = |n: &str| field(&s, "t", n);
    assert_eq!(f("email").validators, [Validator::Email]);
    assert_eq!(f("email").transforms, [Transform::Lower, Transform::Trim]);
    assert_eq!(f("site").validators, [Validator::Url]);
    assert_eq!(f("day").validators, [Validator::Date]);
    assert_eq!(f("ts").validators, [Validator::DateTime]);
    assert_eq!(f("tel").validators, [Validator::Phone]);
    assert_eq!(f("tel").transforms, [Transform::Upper]);
    assert_eq!(
        f("code").validators,
        [Validator::Regex("^[A-Z]{3}$".into())]
    );
    assert_eq!(
        f("name").validators,
        [Validator::Length {
            min: Some(2),
            max: Some(50)
        }]
    );
    assert_eq!(
        f("nick").validators,
        [Validator::Length {
            min: Some(3),
            max: None
        }]
    );
    assert_eq!(
        f("age").validators,
        [
            Validator::Gt(0.0),
            Validator::Gte(1.0),
            Validator::Lt(200.0),
            Validator::Lte(150.0)
        ]
    );
    assert_eq!(
        f("sku").validators,
        [
            Validator::StartsWith("SKU-".into()),
            Validator::EndsWith("-X".into()),
            Validator::Contains("-".into())
        ]
    );
}

#[test]
fn model_attributes() {
    let s = ok(r#"
        database audit { path "./audit/"; driver logger }
        model users {
          id        Integer   @id
          email     Text
          tenant    Integer
          body      Text
          deletedAt DateTime?

          @@softDelete(cascade)
          @@fts([body])
          @@index([tenant, email], name: "by_tenant")
          @@index([email])
          @@unique([tenant, email])
          @@gate("1.3")
          @@log(audit)
          @@auth
          @@noStrict
          @@map("app_users")
        }
        model pairs {
          a Integer
          b Integer
          c Integer
          @@id([a, b])
          @@unique(fields: [b, c], name: "b_c")
          @@index(fields: [c])
        }
    "#);
    let m = s.model("users").unwrap();
    assert_eq!(m.table, "app_users");
    assert_eq!(
        m.soft_delete,
        Some(SoftDelete {
            field: m.field_id("deletedAt").unwrap(),
            cascade: true
        })
    );
    let fts = m.fts.as_ref().unwrap();
    assert_eq!(fts.table, "app_users_fts");
    assert_eq!(fts.fields, [m.field_id("body").unwrap()]);
    assert_eq!(m.indexes[0].name, "by_tenant");
    assert_eq!(m.indexes[1].name, "app_users_email_idx");
    assert_eq!(
        m.indexes[1].predicate.as_deref(),
        Some(r#""deletedAt" IS NULL"#)
    );
    assert_eq!(m.uniques.len(), 1);
    assert_eq!(m.uniques[0].fields.len(), 2);
    assert_eq!(
        m.gate,
        Some(Gate {
            read: 1,
            create: 3,
            update: 3,
            delete: 3
        })
    );
    assert_eq!(m.log.as_deref(), Some("audit"));
    assert!(m.is_auth);
    assert!(!m.strict);
    assert_eq!(m.attributes.len(), 10);
    let p = s.model("pairs").unwrap();
    assert_eq!(p.primary_key, [FieldId(0), FieldId(1)]);
    assert_eq!(p.uniques[0].fields, [FieldId(1), FieldId(2)]);
    assert_eq!(p.uniques[0].name.as_deref(), Some("b_c"));
    assert_eq!(p.indexes[0].fields, [FieldId(2)]);
}

#[test]
fn gate_levels_repeat_the_last_part() {
    for (src, want) in [
        ("0", [0, 0, 0, 0]),
        ("9", [9, 9, 9, 9]),
        ("4.4.4.6", [4, 4, 4, 6]),
        ("2.5", [2, 5, 5, 5]),
    ] {
        let s = ok(&format!(
            "model m {{ id Integer @id  @@gate({}) }}",
            &src[..1]
        ));
        let g = s.model("m").unwrap().gate.unwrap();
        assert_eq!(g.read, want[0]);
        let s = ok(&format!("model m {{ id Integer @id  @@gate(\"{src}\") }}"));
        let g = s.model("m").unwrap().gate.unwrap();
        assert_eq!([g.read, g.create, g.update, g.delete], want, "{src}");
    }
}

#[test]
fn policy_expressions() {
    let s = ok(r#"
        model accounts {
          id    Integer @id
          owner Integer
          posts posts[]
        }
        model posts {
          id        Integer  @id
          account   accounts @relation(fields: [accountId], references: [id])
          accountId Integer
          status    Text
          publishAt DateTime?

          @@allow('read,update', (status == "published" || account.owner == auth().id) && !(publishAt > now()))
          @@allow('all', check(account, owner == auth().id))
          @@allow('update', check(accounts, owner == auth().id))
          @@deny('delete', status == 'published', "published posts can never be deleted")
          @@allow("create", auth() != null)
        }
    "#);
    let mut m = s.model("posts").unwrap().clone();
    assert_eq!(m.policies.len(), 5);
    let p0 = &m.policies[0];
    assert_eq!(p0.effect, PolicyEffect::Allow);
    assert_eq!(p0.ops, [PolicyOp::Read, PolicyOp::Update]);
    let Expr::Binary {
        op: BinaryOp::And,
        left,
        right,
    } = &p0.expr
    else {
        panic!("{:?}", p0.expr)
    };
    let Expr::Binary {
        op: BinaryOp::Or,
        right: owner,
        ..
    } = &**left
    else {
        panic!("{left:?}")
    };
    assert_eq!(
        **owner,
        Expr::Binary {
            op: BinaryOp::Eq,
            left: Box::new(Expr::Field(vec!["account".into(), "owner".into()])),
            right: Box::new(Expr::Auth(vec!["id".into()])),
        }
    );
    assert_eq!(
        **right,
        Expr::Not(Box::new(Expr::Binary {
            op: BinaryOp::Gt,
            left: Box::new(Expr::Field(vec!["publishAt".into()])),
            right: Box::new(Expr::Now),
        }))
    );
    assert!(matches!(&m.policies[1].expr, Expr::Check { relation, .. } if relation == "account"));
    assert_eq!(m.policies[1].ops, [PolicyOp::All]);
    // `check(model, ...)` is normalised to the relation field.
    assert_eq!(m.policies[1].expr, m.policies[2].expr);
    m.policies.remove(2);
    assert_eq!(m.policies[2].effect, PolicyEffect::Deny);
    assert_eq!(
        m.policies[2].message.as_deref(),
        Some("published posts can never be deleted")
    );
    assert_eq!(
        m.policies[3].expr,
        Expr::Binary {
            op: BinaryOp::Ne,
            left: Box::new(Expr::Auth(vec![])),
            right: Box::new(Expr::Literal(json!(null))),
        }
    );
}

#[test]
fn belongs_to_has_many_and_has_one() {
    let s = ok(r#"
        model users {
          id      Integer   @id
          posts   posts[]
          profile profiles?
        }
        model posts {
          id       Integer @id
          author   users   @relation(fields: [authorId], references: [id], onDelete: Cascade, onUpdate: SetNull)
          authorId Integer
        }
        model profiles {
          id     Integer @id
          user   users   @relation(fields: [userId], references: [id])
          userId Integer @unique
        }
    "#);
    let users = s.model_id("users").unwrap();
    let posts = s.model("posts").unwrap();
    let author = posts.field("author").unwrap().relation().unwrap();
    assert_eq!(author.target, users);
    assert_eq!(
        author.kind,
        RelationKind::BelongsTo {
            fields: vec![posts.field_id("authorId").unwrap()],
            references: vec![FieldId(0)],
            on_delete: Some(ReferentialAction::Cascade),
            on_update: Some(ReferentialAction::SetNull),
        }
    );
    let back = field(&s, "users", "posts").relation().unwrap();
    assert_eq!(
        back.kind,
        RelationKind::HasMany {
            inverse: posts.field_id("author").unwrap()
        }
    );
    let profile = field(&s, "users", "profile").relation().unwrap();
    assert_eq!(
        profile.kind,
        RelationKind::HasOne {
            inverse: s.model("profiles").unwrap().field_id("user").unwrap()
        }
    );
    assert_eq!(s.model("users").unwrap().columns().count(), 1);
}

#[test]
fn references_default_to_the_primary_key() {
    let s = ok(r#"
        model a { id Text @id }
        model b { id Integer @id  a a @relation(fields: [aId])  aId Text }
    "#);
    let RelationKind::BelongsTo { references, .. } = &field(&s, "b", "a").relation().unwrap().kind
    else {
        panic!()
    };
    assert_eq!(references, &[FieldId(0)]);
}

#[test]
fn named_relations_disambiguate() {
    let s = ok(r#"
        model users {
          id       Integer @id
          written  posts[] @relation("author")
          reviewed posts[] @relation(name: "reviewer")
        }
        model posts {
          id         Integer @id
          author     users   @relation("author", fields: [authorId], references: [id])
          authorId   Integer
          reviewer   users?  @relation(name: "reviewer", fields: [reviewerId], references: [id])
          reviewerId Integer?
        }
    "#);
    let posts = s.model("posts").unwrap();
    assert_eq!(
        field(&s, "users", "written").relation().unwrap().kind,
        RelationKind::HasMany {
            inverse: posts.field_id("author").unwrap()
        }
    );
    assert_eq!(
        field(&s, "users", "reviewed").relation().unwrap().kind,
        RelationKind::HasMany {
            inverse: posts.field_id("reviewer").unwrap()
        }
    );
    assert_eq!(
        field(&s, "users", "written")
            .relation()
            .unwrap()
            .name
            .as_deref(),
        Some("author")
    );
}

#[test]
fn self_relations() {
    let s = ok(r#"
        model employees {
          id        Integer      @id
          manager   employees?   @relation("reports", fields: [managerId], references: [id])
          managerId Integer?
          reports   employees[]  @relation("reports")
          mentor    employees?   @relation("mentoring", fields: [mentorId], references: [id])
          mentorId  Integer?
          mentees   employees[]  @relation("mentoring")
        }
    "#);
    let m = s.model("employees").unwrap();
    assert_eq!(
        field(&s, "employees", "reports").relation().unwrap().kind,
        RelationKind::HasMany {
            inverse: m.field_id("manager").unwrap()
        }
    );
    assert_eq!(
        field(&s, "employees", "mentees").relation().unwrap().kind,
        RelationKind::HasMany {
            inverse: m.field_id("mentor").unwrap()
        }
    );
}

#[test]
fn implicit_many_to_many() {
    let s = ok(r#"
        model posts { id Integer @id  tags tags[] }
        model tags  { id Text @id     posts posts[] }
    "#);
    let RelationKind::ManyToMany(p) = &field(&s, "posts", "tags").relation().unwrap().kind else {
        panic!()
    };
    assert_eq!(
        *p,
        JoinTable {
            table: "_postsTotags".into(),
            model: None,
            source_column: "A".into(),
            source_ref: FieldId(0),
            target_column: "B".into(),
            target_ref: FieldId(0),
            implicit: true,
        }
    );
    let RelationKind::ManyToMany(t) = &field(&s, "tags", "posts").relation().unwrap().kind else {
        panic!()
    };
    assert_eq!(t.table, "_postsTotags");
    assert_eq!(
        (t.source_column.as_str(), t.target_column.as_str()),
        ("B", "A")
    );
}

#[test]
fn self_and_named_many_to_many() {
    let s = ok(r#"
        model users {
          id        Integer @id
          following users[] @relation("follows")
          followers users[] @relation("follows")
        }
    "#);
    let RelationKind::ManyToMany(a) = &field(&s, "users", "followers").relation().unwrap().kind
    else {
        panic!()
    };
    let RelationKind::ManyToMany(b) = &field(&s, "users", "following").relation().unwrap().kind
    else {
        panic!()
    };
    assert_eq!(a.table, "_follows");
    assert_eq!(b.table, "_follows");
    // `followers` sorts first: it is side A.
    assert_eq!(
        (a.source_column.as_str(), a.target_column.as_str()),
        ("A", "B")
    );
    assert_eq!(
        (b.source_column.as_str(), b.target_column.as_str()),
        ("B", "A")
    );
}

#[test]
fn explicit_many_to_many_through_a_join_model() {
    let s = ok(r#"
        model posts {
          id       Integer    @id
          tags     tags[]     @relation(through: postTags)
          postTags postTags[]
        }
        model tags {
          id       Integer    @id
          posts    posts[]    @relation(through: postTags)
          postTags postTags[]
        }
        model postTags {
          post    posts   @relation(fields: [postId], references: [id], onDelete: Cascade)
          postId  Integer
          tag     tags    @relation(fields: [tagId], references: [id], onDelete: Cascade)
          tagId   Integer
          addedAt DateTime @default(now())
          @@id([postId, tagId])
        }
    "#);
    let join = s.model_id("postTags").unwrap();
    let RelationKind::ManyToMany(jt) = &field(&s, "posts", "tags").relation().unwrap().kind else {
        panic!()
    };
    assert_eq!(
        *jt,
        JoinTable {
            table: "postTags".into(),
            model: Some(join),
            source_column: "postId".into(),
            source_ref: FieldId(0),
            target_column: "tagId".into(),
            target_ref: FieldId(0),
            implicit: false,
        }
    );
    let RelationKind::ManyToMany(back) = &field(&s, "tags", "posts").relation().unwrap().kind
    else {
        panic!()
    };
    assert_eq!(back.source_column, "tagId");
    assert!(matches!(
        field(&s, "posts", "postTags").relation().unwrap().kind,
        RelationKind::HasMany { .. }
    ));
}

#[test]
fn derived_fields() {
    let s = ok(r#"
        model accounts {
          id        Integer @id
          orders    orders[]
          n         Integer @from(orders, count: true)
          total     Real    @from(orders, sum: amount, where: "status = 'paid'")
          biggest   Real    @from(orders, max: amount)
          smallest  Real    @from(orders, min: amount)
          firstOne  Json    @from(orders, first: true)
          lastAmt   Real    @from(orders, last: amount)
          any       Boolean @from(orders, exists: true)
          users     Integer @from(users, count: true)
        }
        model orders {
          id        Integer  @id
          account   accounts @relation(fields: [accountId], references: [id])
          accountId Integer
          amount    Real
        }
        model users {
          id        Integer  @id
          account   accounts @relation(fields: [accountId], references: [id])
          accountId Integer
        }
    "#);
    let a = s.model("accounts").unwrap();
    let o = s.model("orders").unwrap();
    let amount = o.field_id("amount").unwrap();
    let rel = a.field_id("orders").unwrap();
    let d = |n: &str| a.field(n).unwrap().from.clone().unwrap();
    assert_eq!(d("n").agg, DerivedAgg::Count);
    assert_eq!(d("n").relation, rel);
    assert_eq!(d("n").inverse, o.field_id("account"));
    assert!(!d("n").via_model);
    assert_eq!(d("total").agg, DerivedAgg::Sum(amount));
    assert_eq!(d("total").filter.as_deref(), Some("status = 'paid'"));
    assert_eq!(d("biggest").agg, DerivedAgg::Max(amount));
    assert_eq!(d("smallest").agg, DerivedAgg::Min(amount));
    assert_eq!(d("firstOne").agg, DerivedAgg::First(None));
    assert_eq!(d("lastAmt").agg, DerivedAgg::Last(Some(amount)));
    assert_eq!(d("any").agg, DerivedAgg::Exists);
    let users = d("users");
    assert!(users.via_model);
    assert_eq!(users.target, s.model_id("users").unwrap());
    assert_eq!(users.relation, a.field_id("users").unwrap());
    assert!(!a.field("n").unwrap().is_column());
}

#[test]
fn external_models_and_fts_tables() {
    let s = ok(r#"
        model docs_fts {
          rowid Integer @id
          title Text
          @@external
          @@fts([title])
        }
    "#);
    let m = s.model("docs_fts").unwrap();
    assert!(m.external);
    assert_eq!(m.fts.as_ref().unwrap().table, "docs_fts");
}

#[test]
fn raw_ast_is_exposed() {
    let ast =
        schema::parse_ast("model users {\n  id Integer @id @default(autoincrement())\n}").unwrap();
    let schema::ast::Item::Model(m) = &ast.items[0] else {
        panic!()
    };
    let f = m.fields().next().unwrap();
    assert_eq!(f.name.name, "id");
    assert_eq!((f.name.span.line, f.name.span.column), (2, 3));
    assert_eq!(f.attributes[1].name.name, "default");
    assert!(schema::parse_ast("model {").is_err());
}

#[test]
fn parse_named_uses_the_file_name() {
    let Err(Error::Schema { file, .. }) = schema::parse_named("model x {", "app.lite") else {
        panic!()
    };
    assert_eq!(file, "app.lite");
}

#[test]
fn all_errors_in_one_run() {
    let errs = errors(
        "model a {\n  id Integer @id\n  x Nope\n  y Text @nope\n}\nmodel b {\n  z Text\n}\n",
    );
    assert_eq!(
        errs,
        [
            "3:5: unknown type `Nope`",
            "4:11: unknown attribute `@nope`",
            "6:7: model `b` has no primary key: add an `@id` field (or `@@id([...])`), or mark it `@@external`",
        ]
    );
}
