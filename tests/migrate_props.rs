//! Property test: a random walk through schema versions of one model (columns
//! appearing, disappearing, changing type, nullability and default; an index
//! toggling), each pushed onto a database holding rows. After every step the
//! push succeeds, `verify` is clean, the database is sound, no row is lost,
//! and every column whose definition did not change keeps its values — or,
//! when converted values break a new CHECK (an Integer 2 becoming a
//! Boolean), the push is refused with nothing changed.
//! `PROPTEST_CASES` raises the number of walks.

#![allow(clippy::unwrap_used)]

mod migrate_support;

use litestone::migrate::PushOptions;
use migrate_support::Db;
use proptest::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    TextOpt,
    IntOpt,
    RealOpt,
    TextDefault,
    IntDefault,
    BoolDefault,
}

impl Kind {
    fn decl(self) -> &'static str {
        match self {
            Kind::TextOpt => "Text?",
            Kind::IntOpt => "Integer?",
            Kind::RealOpt => "Real?",
            Kind::TextDefault => "Text @default(\"dflt\")",
            Kind::IntDefault => "Integer @default(7)",
            Kind::BoolDefault => "Boolean @default(true)",
        }
    }

    fn value(self, n: usize) -> String {
        match self {
            Kind::TextOpt | Kind::TextDefault => format!("'v{n}'"),
            Kind::IntOpt | Kind::IntDefault => format!("{n}"),
            Kind::RealOpt => format!("{n}.5"),
            Kind::BoolDefault => format!("{}", n % 2),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Version {
    cols: Vec<Option<Kind>>,
    index_on_c0: bool,
}

impl Version {
    fn schema(&self) -> String {
        let mut s = String::from("model t {\n  id Integer @id\n");
        for (i, c) in self.cols.iter().enumerate() {
            if let Some(k) = c {
                s.push_str(&format!("  c{i} {}\n", k.decl()));
            }
        }
        if self.index_on_c0 && self.cols[0].is_some() {
            s.push_str("  @@index([c0])\n");
        }
        s.push('}');
        s
    }
}

fn kind() -> impl Strategy<Value = Option<Kind>> {
    prop_oneof![
        Just(None),
        Just(Some(Kind::TextOpt)),
        Just(Some(Kind::IntOpt)),
        Just(Some(Kind::RealOpt)),
        Just(Some(Kind::TextDefault)),
        Just(Some(Kind::IntDefault)),
        Just(Some(Kind::BoolDefault)),
    ]
}

fn version() -> impl Strategy<Value = Version> {
    (proptest::collection::vec(kind(), 4), any::<bool>())
        .prop_map(|(cols, index_on_c0)| Version { cols, index_on_c0 })
}

fn column_values(db: &Db, col: usize) -> Vec<Vec<String>> {
    db.rows(&format!("SELECT c{col} FROM t ORDER BY id"))
}

async fn walk(versions: Vec<Version>) {
    let db = Db::new();
    let mut prev: Option<Version> = None;
    let mut rows = 0usize;
    for v in versions {
        let before: Vec<Option<Vec<Vec<String>>>> = (0..v.cols.len())
            .map(|i| match &prev {
                Some(p) if p.cols[i].is_some() && p.cols[i] == v.cols[i] => {
                    Some(column_values(&db, i))
                }
                _ => None,
            })
            .collect();
        let client = litestone::Client::builder()
            .schema(&v.schema())
            .db_path(db.path_str())
            .readers(1)
            .open()
            .await
            .unwrap();
        let image = db.image();
        match client
            .push_with(PushOptions::default().allow_destructive(true))
            .await
        {
            Ok(_) => {}
            // Converted values a new CHECK rejects (2 into a Boolean): the
            // push is refused and nothing changes; stay on the old version.
            Err(litestone::Error::Validation { rule, .. }) if rule == "check" => {
                assert_eq!(db.image(), image, "a refused push changes nothing");
                client.close().await.unwrap();
                continue;
            }
            Err(e) => panic!("push to\n{}\nfailed: {e}", v.schema()),
        }
        let report = client.migrator(db.migrations()).verify().await.unwrap();
        assert!(report.is_clean(), "after\n{}\n{report}", v.schema());
        db.assert_sound();
        assert_eq!(
            db.rows("SELECT count(*) FROM t"),
            vec![vec![rows.to_string()]]
        );
        for (i, b) in before.into_iter().enumerate() {
            if let Some(b) = b {
                assert_eq!(column_values(&db, i), b, "c{i} kept its values");
            }
        }
        // Add rows through the current shape.
        let present: Vec<(usize, Kind)> = v
            .cols
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.map(|k| (i, k)))
            .collect();
        for n in 0..2 {
            let names: Vec<String> = present.iter().map(|(i, _)| format!("c{i}")).collect();
            let values: Vec<String> = present.iter().map(|(_, k)| k.value(rows + n)).collect();
            let sql = if names.is_empty() {
                "INSERT INTO t DEFAULT VALUES".to_string()
            } else {
                format!(
                    "INSERT INTO t ({}) VALUES ({})",
                    names.join(", "),
                    values.join(", ")
                )
            };
            db.exec(&sql);
        }
        rows += 2;
        client.close().await.unwrap();
        prev = Some(v);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn random_schema_walks_push_cleanly(versions in proptest::collection::vec(version(), 2..5)) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(walk(versions));
    }
}
