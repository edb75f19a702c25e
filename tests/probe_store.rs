//! A music-store schema (artists, albums, tracks, genres, customers,
//! invoices, invoice lines, playlists) exercised end to end the way a
//! service would: bulk loads, reads with includes and relation filters,
//! aggregates and groups checked against hand-written SQL on the same file,
//! writes with atomic operators, cursor pages, and bad input.

#![allow(clippy::unwrap_used)]

use litestone::{Client, ErrorKind};
use serde_json::{Value, json};

const SCHEMA: &str = r#"
enum Media { MPEG AAC }

model artists {
  id     Integer @id
  name   Text
  albums albums[]
}

model albums {
  id       Integer @id
  title    Text
  artistId Integer
  artist   artists @relation(fields: [artistId], references: [id], onDelete: Cascade)
  tracks   tracks[]
  @@index([artistId])
}

model genres {
  id     Integer @id
  name   Text @unique
  tracks tracks[]
}

model tracks {
  id           Integer @id
  name         Text
  albumId      Integer?
  album        albums? @relation(fields: [albumId], references: [id], onDelete: SetNull)
  genreId      Integer?
  genre        genres? @relation(fields: [genreId], references: [id])
  media        Media   @default(MPEG)
  composer     Text?
  milliseconds Integer
  unitPrice    Real
  lines        invoice_lines[]
  @@index([albumId])
}

model customers {
  id        Integer @id
  firstName Text
  lastName  Text
  email     Text @unique
  country   Text
  city      Text?
  invoices  invoices[]
}

model invoices {
  id          Integer  @id
  customerId  Integer
  customer    customers @relation(fields: [customerId], references: [id])
  invoiceDate DateTime
  total       Real
  lines       invoice_lines[]
}

model invoice_lines {
  id        Integer @id
  invoiceId Integer
  invoice   invoices @relation(fields: [invoiceId], references: [id], onDelete: Cascade)
  trackId   Integer
  track     tracks @relation(fields: [trackId], references: [id])
  unitPrice Real
  quantity  Integer
}
"#;

async fn open(dir: &tempfile::TempDir) -> Client {
    Client::builder()
        .schema(SCHEMA)
        .db_path(dir.path().join("store.db").to_str().unwrap())
        .auto_migrate(true)
        .open()
        .await
        .expect("open")
}

async fn load(db: &Client) {
    let artists: Vec<Value> = (1..=20)
        .map(|i| json!({"id": i, "name": format!("Artist {i:02}")}))
        .collect();
    db.model("artists")
        .create_many(json!({ "data": artists }))
        .await
        .unwrap();
    let albums: Vec<Value> = (1..=60)
        .map(|i| json!({"id": i, "title": format!("Album {i}"), "artistId": (i - 1) % 20 + 1}))
        .collect();
    db.model("albums")
        .create_many(json!({ "data": albums }))
        .await
        .unwrap();
    db.model("genres")
        .create_many(json!({"data": [
            {"id": 1, "name": "Rock"}, {"id": 2, "name": "Jazz"},
            {"id": 3, "name": "Metal"}, {"id": 4, "name": "Blues"}
        ]}))
        .await
        .unwrap();
    let tracks: Vec<Value> = (1..=600)
        .map(|i: i64| {
            json!({
                "id": i,
                "name": format!("Track {i}"),
                "albumId": if i % 50 == 0 { Value::Null } else { json!((i - 1) % 60 + 1) },
                "genreId": if i % 7 == 0 { Value::Null } else { json!(i % 4 + 1) },
                "media": if i % 3 == 0 { "AAC" } else { "MPEG" },
                "composer": if i % 5 == 0 { Value::Null } else { json!(format!("Composer {}", i % 13)) },
                "milliseconds": 120_000 + (i * 7919) % 240_000,
                "unitPrice": if i % 2 == 0 { 0.99 } else { 1.99 },
            })
        })
        .collect();
    db.model("tracks")
        .create_many(json!({ "data": tracks }))
        .await
        .unwrap();
    let countries = ["USA", "Canada", "Brazil", "France", "Germany"];
    let customers: Vec<Value> = (1..=50)
        .map(|i: i64| {
            json!({
                "id": i,
                "firstName": format!("First{i}"),
                "lastName": format!("Last{}", i % 17),
                "email": format!("c{i}@example.com"),
                "country": countries[(i % 5) as usize],
                "city": if i % 4 == 0 { Value::Null } else { json!(format!("City{}", i % 9)) },
            })
        })
        .collect();
    db.model("customers")
        .create_many(json!({ "data": customers }))
        .await
        .unwrap();
    let mut invoices = Vec::new();
    let mut lines = Vec::new();
    let mut line_id = 1;
    for i in 1..=200i64 {
        let n = i % 4 + 1;
        let mut total = 0.0;
        for k in 0..n {
            let track = (i * 31 + k * 97) % 600 + 1;
            let price = if track % 2 == 0 { 0.99 } else { 1.99 };
            let qty = k % 2 + 1;
            total += price * qty as f64;
            lines.push(json!({"id": line_id, "invoiceId": i, "trackId": track, "unitPrice": price, "quantity": qty}));
            line_id += 1;
        }
        invoices.push(json!({
            "id": i,
            "customerId": i % 50 + 1,
            "invoiceDate": format!("2024-{:02}-{:02}T10:00:00Z", i % 12 + 1, i % 28 + 1),
            "total": (total * 100.0).round() / 100.0,
        }));
    }
    db.model("invoices")
        .create_many(json!({ "data": invoices }))
        .await
        .unwrap();
    db.model("invoice_lines")
        .create_many(json!({ "data": lines }))
        .await
        .unwrap();
}

/// Rows of a hand-written query, as JSON.
async fn sql(db: &Client, q: &str) -> Vec<Value> {
    db.sql(q, json!([]))
        .await
        .expect("sql")
        .as_array()
        .cloned()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_music_store_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    load(&db).await;

    // Counts match the raw tables.
    assert_eq!(
        db.model("tracks").count(json!({})).await.unwrap(),
        json!(600)
    );
    let n_lines = sql(&db, "SELECT count(*) AS n FROM invoice_lines").await;
    assert_eq!(
        db.model("invoice_lines").count(json!({})).await.unwrap(),
        n_lines[0]["n"]
    );

    // Filter + order + include (belongsTo two levels, hasMany) + select.
    let rows = db
        .model("tracks")
        .find_many(json!({
            "where": {"genre": {"is": {"name": "Jazz"}}, "milliseconds": {"gt": 300000}},
            "orderBy": [{"milliseconds": "desc"}, {"id": "asc"}],
            "limit": 5,
            "select": {"id": true, "name": true, "milliseconds": true,
                       "album": {"select": {"title": true, "artist": {"select": {"name": true}}}}}
        }))
        .await
        .unwrap();
    let expect = sql(
        &db,
        "SELECT t.id, t.milliseconds, al.title, ar.name AS artist FROM tracks t \
         JOIN genres g ON g.id = t.genreId LEFT JOIN albums al ON al.id = t.albumId \
         LEFT JOIN artists ar ON ar.id = al.artistId \
         WHERE g.name = 'Jazz' AND t.milliseconds > 300000 ORDER BY t.milliseconds DESC, t.id LIMIT 5",
    )
    .await;
    assert_eq!(rows.as_array().unwrap().len(), expect.len());
    for (r, e) in rows.as_array().unwrap().iter().zip(&expect) {
        assert_eq!(r["id"], e["id"]);
        assert_eq!(r["milliseconds"], e["milliseconds"]);
        assert_eq!(r["album"]["title"], e["title"]);
        assert_eq!(r["album"]["artist"]["name"], e["artist"]);
        assert!(r.get("unitPrice").is_none(), "select leaked a field: {r}");
    }

    // hasMany include with nested where/orderBy/limit.
    let artists = db
        .model("artists")
        .find_many(json!({
            "where": {"id": {"in": [1, 2, 3]}},
            "orderBy": {"id": "asc"},
            "include": {"albums": {"orderBy": {"id": "desc"}, "limit": 2,
                                   "include": {"tracks": {"where": {"media": "AAC"}, "orderBy": {"id": "asc"}}}}}
        }))
        .await
        .unwrap();
    let artists = artists.as_array().unwrap();
    assert_eq!(artists.len(), 3);
    for a in artists {
        let albums = a["albums"].as_array().unwrap();
        assert_eq!(albums.len(), 2);
        assert!(albums[0]["id"].as_i64() > albums[1]["id"].as_i64());
        for al in albums {
            assert_eq!(al["artistId"], a["id"]);
            let want = sql(
                &db,
                &format!(
                    "SELECT id FROM tracks WHERE albumId = {} AND media = 'AAC' ORDER BY id",
                    al["id"]
                ),
            )
            .await;
            let got: Vec<&Value> = al["tracks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| &t["id"])
                .collect();
            let want: Vec<&Value> = want.iter().map(|t| &t["id"]).collect();
            assert_eq!(got, want);
        }
    }

    // Relation filters: customers with some invoice over 5, none over 7.
    let got = db
        .model("customers")
        .find_many(json!({
            "where": {"invoices": {"some": {"total": {"gt": 5}}, "none": {"total": {"gt": 7}}}},
            "orderBy": {"id": "asc"}, "select": {"id": true}
        }))
        .await
        .unwrap();
    let want = sql(
        &db,
        "SELECT id FROM customers c WHERE EXISTS (SELECT 1 FROM invoices i WHERE i.customerId = c.id AND i.total > 5) \
         AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.customerId = c.id AND i.total > 7) ORDER BY id",
    )
    .await;
    assert_eq!(got, Value::Array(want));

    // notIn includes NULLs (README); null equality.
    let n_not_in = db
        .model("tracks")
        .count(json!({"where": {"genreId": {"notIn": [1, 2]}}}))
        .await
        .unwrap();
    let want = sql(
        &db,
        "SELECT count(*) AS n FROM tracks WHERE genreId IS NULL OR genreId NOT IN (1, 2)",
    )
    .await;
    assert_eq!(n_not_in, want[0]["n"]);
    let n_null = db
        .model("tracks")
        .count(json!({"where": {"composer": null}}))
        .await
        .unwrap();
    assert_eq!(n_null, json!(120));

    // Aggregates against SQL.
    let agg = db
        .model("invoices")
        .aggregate(json!({
            "where": {"invoiceDate": {"gte": "2024-06-01T00:00:00Z"}},
            "_count": true, "_sum": {"total": true}, "_avg": {"total": true},
            "_min": {"total": true}, "_max": {"invoiceDate": true}
        }))
        .await
        .unwrap();
    let want = sql(
        &db,
        "SELECT count(*) AS c, sum(total) AS s, avg(total) AS a, min(total) AS mi, max(invoiceDate) AS ma \
         FROM invoices WHERE invoiceDate >= '2024-06-01T00:00:00.000Z'",
    )
    .await;
    assert_eq!(agg["_count"], want[0]["c"]);
    let close = |a: &Value, b: &Value| (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-9;
    assert!(close(&agg["_sum"]["total"], &want[0]["s"]), "{agg}");
    assert!(close(&agg["_avg"]["total"], &want[0]["a"]));
    assert!(close(&agg["_min"]["total"], &want[0]["mi"]));
    assert_eq!(agg["_max"]["invoiceDate"], want[0]["ma"]);

    // groupBy with having and orderBy on an aggregate.
    let groups = db
        .model("customers")
        .group_by(json!({
            "by": ["country"], "_count": true,
            "having": {"_count": {"gte": 10}},
            "orderBy": [{"_count": "desc"}, {"country": "asc"}]
        }))
        .await
        .unwrap();
    let want = sql(
        &db,
        "SELECT country, count(*) AS n FROM customers GROUP BY country HAVING count(*) >= 10 ORDER BY n DESC, country",
    )
    .await;
    let groups = groups.as_array().unwrap();
    assert_eq!(groups.len(), want.len());
    for (g, w) in groups.iter().zip(&want) {
        assert_eq!(g["country"], w["country"]);
        assert_eq!(g["_count"], w["n"]);
    }

    // orderBy a relation aggregate and a belongsTo field.
    let top = db
        .model("customers")
        .find_many(json!({"orderBy": [{"invoices": {"_count": "desc"}}, {"id": "asc"}], "limit": 3, "select": {"id": true}}))
        .await
        .unwrap();
    let want = sql(
        &db,
        "SELECT c.id FROM customers c ORDER BY (SELECT count(*) FROM invoices i WHERE i.customerId = c.id) DESC, c.id LIMIT 3",
    )
    .await;
    assert_eq!(top, Value::Array(want));
    let by_artist = db
        .model("albums")
        .find_many(json!({"orderBy": [{"artist": {"name": "desc"}}, {"id": "asc"}], "limit": 4, "select": {"id": true}}))
        .await
        .unwrap();
    let want = sql(
        &db,
        "SELECT al.id FROM albums al LEFT JOIN artists ar ON ar.id = al.artistId ORDER BY ar.name DESC, al.id LIMIT 4",
    )
    .await;
    assert_eq!(by_artist, Value::Array(want));

    // Cursor pages walk every row once, in order.
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let mut args =
            json!({"limit": 70, "orderBy": {"milliseconds": "asc"}, "where": {"media": "MPEG"}});
        if !cursor.is_null() {
            args["cursor"] = cursor.clone();
        }
        let page = db.model("tracks").find_many_cursor(args).await.unwrap();
        for t in page["items"].as_array().unwrap() {
            seen.push(t["id"].as_i64().unwrap());
        }
        if page["hasMore"] != json!(true) {
            break;
        }
        cursor = page["nextCursor"].clone();
    }
    let want: Vec<i64> = sql(
        &db,
        "SELECT id FROM tracks WHERE media = 'MPEG' ORDER BY milliseconds, id",
    )
    .await
    .iter()
    .map(|r| r["id"].as_i64().unwrap())
    .collect();
    assert_eq!(seen, want);

    // Writes: atomic update, upsert both ways, delete with cascade.
    let t = db
        .model("tracks")
        .update(json!({"where": {"id": 10}, "data": {"milliseconds": {"increment": 1000}, "unitPrice": {"multiply": 2}}}))
        .await
        .unwrap();
    let before = 120_000 + 10 * 7919;
    assert_eq!(t["milliseconds"], json!(before + 1000));
    assert_eq!(t["unitPrice"], json!(1.98));
    let g = db
        .model("genres")
        .upsert(json!({"where": {"name": "Jazz"}, "create": {"id": 9, "name": "Jazz"}, "update": {"name": "Jazz!"}}))
        .await
        .unwrap();
    assert_eq!(g["id"], json!(2));
    assert_eq!(g["name"], json!("Jazz!"));
    let g = db
        .model("genres")
        .upsert(json!({"where": {"name": "Pop"}, "create": {"id": 9, "name": "Pop"}, "update": {"name": "x"}}))
        .await
        .unwrap();
    assert_eq!(g["id"], json!(9));
    let lines_before = sql(
        &db,
        "SELECT count(*) AS n FROM invoice_lines WHERE invoiceId = 3",
    )
    .await[0]["n"]
        .as_i64()
        .unwrap();
    assert!(lines_before > 0);
    db.model("invoices")
        .delete(json!({"where": {"id": 3}}))
        .await
        .unwrap();
    let left = sql(
        &db,
        "SELECT count(*) AS n FROM invoice_lines WHERE invoiceId = 3",
    )
    .await;
    assert_eq!(left[0]["n"], json!(0));

    // Bad input: clear errors, nothing written.
    let e = db
        .model("tracks")
        .create(json!({"data": {"name": "x", "milliseconds": "long", "unitPrice": 1}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    let e = db
        .model("tracks")
        .create(json!({"data": {"name": "x", "milliseconds": 1, "unitPrice": 1, "media": "FLAC"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    let e = db
        .model("tracks")
        .find_many(json!({"where": {"nme": "x"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownField, "{e}");
    assert!(e.to_string().contains("nme"), "{e}");
    let e = db
        .model("invoice_lines")
        .create(json!({"data": {"invoiceId": 99999, "trackId": 1, "unitPrice": 1, "quantity": 1}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ForeignKeyViolation, "{e}");
    let e = db
        .model("customers")
        .create(json!({"data": {"firstName": "a", "lastName": "b", "email": "c1@example.com", "country": "X"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UniqueViolation, "{e}");
    let e = db
        .model("tracks")
        .update_many(json!({"data": {"unitPrice": 0}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs, "{e}");
    assert_eq!(
        db.model("tracks").count(json!({})).await.unwrap(),
        json!(600)
    );

    // find_many_and_count, distinct, exists.
    let page = db
        .model("tracks")
        .find_many_and_count(
            json!({"where": {"genreId": 3}, "orderBy": {"id": "asc"}, "limit": 10, "offset": 5}),
        )
        .await
        .unwrap();
    let total = sql(&db, "SELECT count(*) AS n FROM tracks WHERE genreId = 3").await;
    assert_eq!(page["total"], total[0]["n"]);
    assert_eq!(page["rows"].as_array().unwrap().len(), 10);
    let countries = db
        .model("customers")
        .find_many(
            json!({"select": {"country": true}, "distinct": true, "orderBy": {"country": "asc"}}),
        )
        .await
        .unwrap();
    assert_eq!(countries.as_array().unwrap().len(), 5);
    assert_eq!(
        db.model("customers")
            .exists(
                json!({"where": {"email": {"endsWith": "@EXAMPLE.com", "mode": "insensitive"}}})
            )
            .await
            .unwrap(),
        json!(true)
    );
    db.close().await.unwrap();
}
