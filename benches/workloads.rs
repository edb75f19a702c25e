//! The BENCH.md workloads, run on litestone and on plain rusqlite in one
//! process so the figures compare as ratios.
//!
//! ```sh
//! cargo bench --bench workloads              # full run (3 runs, medians)
//! cargo bench --bench workloads -- --quick   # smaller counts, 1 run
//! cargo bench --bench workloads -- --only point_read_seq,include
//! ```
//!
//! Where time goes (instruction counts, repeatable on a busy machine):
//!
//! ```sh
//! cargo bench --bench workloads --no-run
//! valgrind --tool=callgrind --callgrind-out-file=cg.out \
//!     target/release/deps/workloads-<hash> --quick --profile include
//! callgrind_annotate --inclusive=yes cg.out | head -60
//! ```
//!
//! `--profile <workload>` runs only that workload (both systems), so the
//! profile is not drowned in seeding and other workloads.
//!
//! Output: one JSON line per workload and system, then a markdown table with
//! the litestone/baseline ratio. The baseline is rusqlite (bundled,
//! `prepare_cached`, one connection per OS thread, the same pragmas and data):
//! the floor of what SQLite itself costs on this machine.
//!
//! Concurrency in the baseline: a synchronous library has no tasks, so the
//! "64 tasks" read workloads run on one OS thread per core, each with its own
//! connection, doing the same total number of operations; the insert
//! workloads run their autocommit inserts from one connection (SQLite admits
//! one writer at a time); `mixed` runs one reader thread per core plus one
//! writer thread.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use serde_json::json;

const SCHEMA: &str = r#"
model users {
  id        Integer  @id
  email     Text     @unique
  name      Text?
  age       Integer?
  active    Boolean
  createdAt DateTime
  posts     posts[]
}

model posts {
  id        Integer  @id
  user      users    @relation(fields: [userId], references: [id])
  userId    Integer
  title     Text
  body      Text?
  views     Integer
  createdAt DateTime

  @@index([userId])
  @@index([views])
}

model big {
  id    Integer @id
  n     Integer
  label Text
}
"#;

// ---------------------------------------------------------------- data

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Deterministic ISO-8601 timestamp in 2020..2025, in litestone's storage format.
fn created_at(seed: u64) -> String {
    let secs = 1_577_836_800 + splitmix64(seed) % (5 * 365 * 86_400);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        splitmix64(seed ^ 7) % 1000
    )
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn body_for(seed: u64) -> Option<String> {
    if splitmix64(seed) % 5 == 0 {
        return None;
    }
    let words = [
        "lorem", "ipsum", "dolor", "sit", "amet", "sqlite", "async", "tokio", "writer", "reader",
    ];
    let mut s = String::with_capacity(160);
    let mut k = seed;
    while s.len() < 150 {
        k = splitmix64(k);
        s.push_str(words[(k % words.len() as u64) as usize]);
        s.push(' ');
    }
    Some(s)
}

fn post_values(id: i64) -> (i64, String, Option<String>, i64, String) {
    let seed = id as u64 * 31 + 17;
    let user_id = (id - 1) / 5 + 1;
    let views = (splitmix64(seed) % 100_000) as i64;
    (
        user_id,
        format!("post {id}"),
        body_for(seed),
        views,
        created_at(seed ^ 0xABCD),
    )
}

fn seed(path: &Path, users: i64, posts: i64) -> rusqlite::Result<()> {
    let mut c = Connection::open(path)?;
    apply_pragmas(&c, "NORMAL")?;
    let tx = c.transaction()?;
    {
        let mut u = tx.prepare(
            "INSERT INTO users (id, email, name, age, active, createdAt) VALUES (?, ?, ?, ?, ?, ?)",
        )?;
        for id in 1..=users {
            let s = splitmix64(id as u64);
            let name = (s % 7 != 0).then(|| format!("User {id}"));
            let age = (s % 5 != 0).then(|| (18 + s % 60) as i64);
            u.execute(params![
                id,
                format!("user{id}@example.com"),
                name,
                age,
                (s % 3 != 0) as i64,
                created_at(id as u64)
            ])?;
        }
        let mut p = tx.prepare(
            "INSERT INTO posts (id, userId, title, body, views, createdAt) VALUES (?, ?, ?, ?, ?, ?)",
        )?;
        for id in 1..=posts {
            let (uid, title, body, views, at) = post_values(id);
            p.execute(params![id, uid, title, body, views, at])?;
        }
    }
    tx.commit()?;
    c.execute_batch("ANALYZE")?;
    Ok(())
}

fn apply_pragmas(c: &Connection, sync: &str) -> rusqlite::Result<()> {
    c.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;"
    ))
}

// ---------------------------------------------------------------- rows

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct User {
    id: i64,
    email: String,
    name: Option<String>,
    age: Option<i64>,
    active: bool,
    #[serde(rename = "createdAt")]
    created_at: String,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Post {
    id: i64,
    #[serde(rename = "userId")]
    user_id: i64,
    title: String,
    body: Option<String>,
    views: i64,
    #[serde(rename = "createdAt")]
    created_at: String,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Big {
    id: i64,
    n: i64,
    label: String,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct UserWithPosts {
    id: i64,
    email: String,
    name: Option<String>,
    age: Option<i64>,
    active: bool,
    #[serde(rename = "createdAt")]
    created_at: String,
    posts: Vec<Post>,
}

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        age: r.get(3)?,
        active: r.get::<_, i64>(4)? != 0,
        created_at: r.get(5)?,
    })
}

fn post_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Post> {
    Ok(Post {
        id: r.get(0)?,
        user_id: r.get(1)?,
        title: r.get(2)?,
        body: r.get(3)?,
        views: r.get(4)?,
        created_at: r.get(5)?,
    })
}

// ---------------------------------------------------------------- results

#[derive(Debug, Clone, Default)]
struct Figure {
    ops_per_s: f64,
    p50_us: Option<f64>,
    p99_us: Option<f64>,
    /// Secondary rate (mixed: writes/s).
    extra: Option<f64>,
    /// Peak RSS in MiB (stream_large).
    rss_mib: Option<f64>,
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn latency_figure(ops: usize, elapsed: Duration, mut lat_ns: Vec<u64>) -> Figure {
    lat_ns.sort_unstable();
    Figure {
        ops_per_s: ops as f64 / elapsed.as_secs_f64(),
        p50_us: Some(percentile(&lat_ns, 0.5)),
        p99_us: Some(percentile(&lat_ns, 0.99)),
        ..Figure::default()
    }
}

fn rate_figure(ops: usize, elapsed: Duration) -> Figure {
    Figure {
        ops_per_s: ops as f64 / elapsed.as_secs_f64(),
        ..Figure::default()
    }
}

fn median_figure(mut runs: Vec<Figure>) -> Figure {
    runs.sort_by(|a, b| a.ops_per_s.total_cmp(&b.ops_per_s));
    runs[runs.len() / 2].clone()
}

// ---------------------------------------------------------------- config

#[derive(Debug, Clone)]
struct Config {
    users: i64,
    posts: i64,
    seq_reads: usize,
    conc_tasks: usize,
    conc_reads: usize,
    list_queries: usize,
    include_queries: usize,
    insert_tasks: usize,
    insert_each: usize,
    bulk_rows: usize,
    mixed_secs: f64,
    big_rows: i64,
    runs: usize,
    only: Option<Vec<String>>,
    profile: Option<String>,
}

impl Config {
    fn from_args() -> Config {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let quick = args.iter().any(|a| a == "--quick");
        let mut c = if quick {
            Config {
                users: 10_000,
                posts: 50_000,
                seq_reads: 5_000,
                conc_tasks: 64,
                conc_reads: 200,
                list_queries: 300,
                include_queries: 100,
                insert_tasks: 64,
                insert_each: 20,
                bulk_rows: 20_000,
                mixed_secs: 1.0,
                big_rows: 100_000,
                runs: 1,
                only: None,
                profile: None,
            }
        } else {
            Config {
                users: 10_000,
                posts: 50_000,
                seq_reads: 20_000,
                conc_tasks: 64,
                conc_reads: 1_000,
                list_queries: 2_000,
                include_queries: 500,
                insert_tasks: 64,
                insert_each: 100,
                bulk_rows: 100_000,
                mixed_secs: 5.0,
                big_rows: 1_000_000,
                runs: 3,
                only: None,
                profile: None,
            }
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--runs" => c.runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(c.runs),
                "--only" => {
                    c.only = it
                        .next()
                        .map(|v| v.split(',').map(str::to_string).collect())
                }
                "--profile" => c.profile = it.next().cloned(),
                _ => {}
            }
        }
        c
    }

    fn wants(&self, w: &str) -> bool {
        if let Some(p) = &self.profile {
            return p == w;
        }
        self.only.as_ref().is_none_or(|o| o.iter().any(|x| x == w))
    }
}

fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(2)
}

// ---------------------------------------------------------------- baseline

mod baseline {
    use super::*;

    fn open(path: &Path, sync: &str) -> Connection {
        let c = Connection::open(path).expect("open");
        apply_pragmas(&c, sync).expect("pragmas");
        c.set_prepared_statement_cache_capacity(64);
        c
    }

    const POINT: &str = "SELECT id, email, name, age, active, createdAt FROM users WHERE id = ?";

    pub(super) fn point_read_seq(path: &Path, cfg: &Config) -> Figure {
        let c = open(path, "NORMAL");
        let mut lat = Vec::with_capacity(cfg.seq_reads);
        let start = Instant::now();
        for i in 0..cfg.seq_reads {
            let id = (splitmix64(i as u64) % cfg.users as u64) as i64 + 1;
            let t = Instant::now();
            let u = c
                .prepare_cached(POINT)
                .expect("prepare")
                .query_row([id], user_from_row)
                .optional()
                .expect("query");
            std::hint::black_box(u);
            lat.push(t.elapsed().as_nanos() as u64);
        }
        latency_figure(cfg.seq_reads, start.elapsed(), lat)
    }

    pub(super) fn point_read_conc(path: &Path, cfg: &Config) -> Figure {
        let total = cfg.conc_tasks * cfg.conc_reads;
        let n = threads();
        let per = total / n;
        let start = Instant::now();
        let lats: Vec<Vec<u64>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..n)
                .map(|t| {
                    s.spawn(move || {
                        let c = open(path, "NORMAL");
                        let mut lat = Vec::with_capacity(per);
                        for i in 0..per {
                            let id =
                                (splitmix64((t * per + i) as u64) % cfg.users as u64) as i64 + 1;
                            let tt = Instant::now();
                            let u = c
                                .prepare_cached(POINT)
                                .expect("prepare")
                                .query_row([id], user_from_row)
                                .optional()
                                .expect("query");
                            std::hint::black_box(u);
                            lat.push(tt.elapsed().as_nanos() as u64);
                        }
                        lat
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().expect("join")).collect()
        });
        let elapsed = start.elapsed();
        latency_figure(per * n, elapsed, lats.concat())
    }

    pub(super) fn list_filter(path: &Path, cfg: &Config) -> Figure {
        let c = open(path, "NORMAL");
        let mut lat = Vec::with_capacity(cfg.list_queries);
        let start = Instant::now();
        for i in 0..cfg.list_queries {
            let x = 99_400 + (splitmix64(i as u64 ^ 0x55) % 200) as i64;
            let t = Instant::now();
            let rows: Vec<Post> = c
                .prepare_cached(
                    "SELECT id, userId, title, body, views, createdAt FROM posts WHERE views > ? ORDER BY createdAt DESC LIMIT 100",
                )
                .expect("prepare")
                .query_map([x], post_from_row)
                .expect("query")
                .collect::<rusqlite::Result<_>>()
                .expect("rows");
            std::hint::black_box(rows);
            lat.push(t.elapsed().as_nanos() as u64);
        }
        latency_figure(cfg.list_queries, start.elapsed(), lat)
    }

    pub(super) fn include(path: &Path, cfg: &Config) -> Figure {
        let c = open(path, "NORMAL");
        let mut lat = Vec::with_capacity(cfg.include_queries);
        let start = Instant::now();
        for i in 0..cfg.include_queries {
            let lo = (splitmix64(i as u64) % (cfg.users as u64 - 100)) as i64 + 1;
            let t = Instant::now();
            c.execute_batch("BEGIN").expect("begin");
            let users: Vec<User> = c
                .prepare_cached(
                    "SELECT id, email, name, age, active, createdAt FROM users WHERE id >= ? AND id < ? ORDER BY id",
                )
                .expect("prepare")
                .query_map([lo, lo + 100], user_from_row)
                .expect("query")
                .collect::<rusqlite::Result<_>>()
                .expect("rows");
            let posts: Vec<Post> = c
                .prepare_cached(
                    "SELECT id, userId, title, body, views, createdAt FROM posts WHERE userId >= ? AND userId < ? ORDER BY id",
                )
                .expect("prepare")
                .query_map([lo, lo + 100], post_from_row)
                .expect("query")
                .collect::<rusqlite::Result<_>>()
                .expect("rows");
            c.execute_batch("COMMIT").expect("commit");
            let mut by_user: std::collections::HashMap<i64, Vec<Post>> = Default::default();
            for p in posts {
                by_user.entry(p.user_id).or_default().push(p);
            }
            let out: Vec<UserWithPosts> = users
                .into_iter()
                .map(|u| UserWithPosts {
                    posts: by_user.remove(&u.id).unwrap_or_default(),
                    id: u.id,
                    email: u.email,
                    name: u.name,
                    age: u.age,
                    active: u.active,
                    created_at: u.created_at,
                })
                .collect();
            std::hint::black_box(out);
            lat.push(t.elapsed().as_nanos() as u64);
        }
        latency_figure(cfg.include_queries, start.elapsed(), lat)
    }

    const INSERT: &str = "INSERT INTO posts (userId, title, body, views, createdAt) VALUES (?, ?, ?, ?, ?) RETURNING id";

    pub(super) fn insert_conc(path: &Path, cfg: &Config, sync: &str) -> Figure {
        // Autocommit inserts, each its own transaction (and its own fsync
        // under FULL), from one connection: SQLite admits one writer at a
        // time, so more threads would only add busy-wait back-off.
        let total = cfg.insert_tasks * cfg.insert_each;
        let c = open(path, sync);
        let start = Instant::now();
        for i in 0..total {
            let (uid, title, body, views, at) = post_values(i as i64 % cfg.posts + 1);
            let id: i64 = c
                .prepare_cached(INSERT)
                .expect("prepare")
                .query_row(params![uid, title, body, views, at], |r| r.get(0))
                .expect("insert");
            std::hint::black_box(id);
        }
        rate_figure(total, start.elapsed())
    }

    pub(super) fn insert_bulk(path: &Path, cfg: &Config) -> Figure {
        let mut c = open(path, "NORMAL");
        let start = Instant::now();
        let tx = c.transaction().expect("tx");
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO posts (userId, title, body, views, createdAt) VALUES (?, ?, ?, ?, ?)",
                )
                .expect("prepare");
            for i in 0..cfg.bulk_rows {
                let (uid, title, body, views, at) = post_values(i as i64 % cfg.posts + 1);
                st.execute(params![uid, title, body, views, at])
                    .expect("insert");
            }
        }
        tx.commit().expect("commit");
        rate_figure(cfg.bulk_rows, start.elapsed())
    }

    pub(super) fn mixed(path: &Path, cfg: &Config) -> Figure {
        let stop = AtomicBool::new(false);
        let reads = AtomicU64::new(0);
        let writes = AtomicU64::new(0);
        let n = threads();
        let lats: Vec<Vec<u64>> = std::thread::scope(|s| {
            let readers: Vec<_> = (0..n)
                .map(|t| {
                    let (stop, reads) = (&stop, &reads);
                    s.spawn(move || {
                        let c = open(path, "NORMAL");
                        let mut lat = Vec::new();
                        let mut i = 0u64;
                        while !stop.load(Ordering::Relaxed) {
                            let id =
                                (splitmix64(i ^ (t as u64) << 40) % cfg.users as u64) as i64 + 1;
                            let tt = Instant::now();
                            let u = c
                                .prepare_cached(POINT)
                                .expect("prepare")
                                .query_row([id], user_from_row)
                                .optional()
                                .expect("query");
                            std::hint::black_box(u);
                            lat.push(tt.elapsed().as_nanos() as u64);
                            i += 1;
                        }
                        reads.fetch_add(i, Ordering::Relaxed);
                        lat
                    })
                })
                .collect();
            let (stop2, writes2) = (&stop, &writes);
            s.spawn(move || {
                let c = open(path, "NORMAL");
                let mut i = 0u64;
                while !stop2.load(Ordering::Relaxed) {
                    let (uid, title, body, views, at) = post_values(i as i64 % cfg.posts + 1);
                    c.prepare_cached(INSERT)
                        .expect("prepare")
                        .query_row(params![uid, title, body, views, at], |r| r.get::<_, i64>(0))
                        .expect("insert");
                    i += 1;
                }
                writes2.fetch_add(i, Ordering::Relaxed);
            });
            std::thread::sleep(Duration::from_secs_f64(cfg.mixed_secs));
            stop.store(true, Ordering::Relaxed);
            readers
                .into_iter()
                .map(|h| h.join().expect("join"))
                .collect()
        });
        let mut lat = lats.concat();
        lat.sort_unstable();
        Figure {
            ops_per_s: reads.load(Ordering::Relaxed) as f64 / cfg.mixed_secs,
            p50_us: Some(percentile(&lat, 0.5)),
            p99_us: Some(percentile(&lat, 0.99)),
            extra: Some(writes.load(Ordering::Relaxed) as f64 / cfg.mixed_secs),
            rss_mib: None,
        }
    }

    pub(super) fn stream_large(path: &Path) -> Figure {
        let c = open(path, "NORMAL");
        reset_peak_rss();
        let base = rss_mib();
        let start = Instant::now();
        let mut st = c
            .prepare_cached("SELECT id, n, label FROM big ORDER BY id")
            .expect("prepare");
        let mut rows = st.query([]).expect("query");
        let mut count = 0usize;
        while let Some(r) = rows.next().expect("row") {
            let v: (i64, i64, String) = (
                r.get(0).expect("c"),
                r.get(1).expect("c"),
                r.get(2).expect("c"),
            );
            std::hint::black_box(v);
            count += 1;
        }
        let mut f = rate_figure(count, start.elapsed());
        f.rss_mib = Some((peak_rss_mib() - base).max(0.0));
        f
    }
}

// ---------------------------------------------------------------- litestone

mod lite {
    use super::*;
    use litestone::Client;

    pub(super) async fn open(path: &Path, sync: &str) -> Client {
        Client::builder()
            .schema(SCHEMA)
            .db_path(path.to_str().expect("utf8 path"))
            .pragma("synchronous", sync)
            .open()
            .await
            .expect("open litestone")
    }

    pub(super) async fn point_read_seq(db: &Client, cfg: &Config, typed: bool) -> Figure {
        let users = db.model("users");
        let mut lat = Vec::with_capacity(cfg.seq_reads);
        let start = Instant::now();
        for i in 0..cfg.seq_reads {
            let id = (splitmix64(i as u64) % cfg.users as u64) as i64 + 1;
            let t = Instant::now();
            let args = json!({"where": {"id": id}});
            if typed {
                let u: Option<User> = users.find_unique_as(args).await.expect("find");
                std::hint::black_box(u);
            } else {
                let u = users.find_unique(args).await.expect("find");
                std::hint::black_box(u);
            }
            lat.push(t.elapsed().as_nanos() as u64);
        }
        latency_figure(cfg.seq_reads, start.elapsed(), lat)
    }

    pub(super) async fn point_read_conc(db: &Client, cfg: &Config, typed: bool) -> Figure {
        let start = Instant::now();
        let mut handles = Vec::new();
        for t in 0..cfg.conc_tasks {
            let users = db.model("users");
            let cfg = cfg.clone();
            handles.push(tokio::spawn(async move {
                let mut lat = Vec::with_capacity(cfg.conc_reads);
                for i in 0..cfg.conc_reads {
                    let id =
                        (splitmix64((t * cfg.conc_reads + i) as u64) % cfg.users as u64) as i64 + 1;
                    let tt = Instant::now();
                    let args = json!({"where": {"id": id}});
                    if typed {
                        let u: Option<User> = users.find_unique_as(args).await.expect("find");
                        std::hint::black_box(u);
                    } else {
                        let u = users.find_unique(args).await.expect("find");
                        std::hint::black_box(u);
                    }
                    lat.push(tt.elapsed().as_nanos() as u64);
                }
                lat
            }));
        }
        let mut lat = Vec::new();
        for h in handles {
            lat.extend(h.await.expect("task"));
        }
        latency_figure(cfg.conc_tasks * cfg.conc_reads, start.elapsed(), lat)
    }

    pub(super) async fn list_filter(db: &Client, cfg: &Config, typed: bool) -> Figure {
        let posts = db.model("posts");
        let mut lat = Vec::with_capacity(cfg.list_queries);
        let start = Instant::now();
        for i in 0..cfg.list_queries {
            let x = 99_400 + (splitmix64(i as u64 ^ 0x55) % 200) as i64;
            let t = Instant::now();
            let args = json!({"where": {"views": {"gt": x}}, "orderBy": {"createdAt": "desc"}, "limit": 100});
            if typed {
                let rows: Vec<Post> = posts.find_many_as(args).await.expect("find");
                std::hint::black_box(rows);
            } else {
                let rows = posts.find_many(args).await.expect("find");
                std::hint::black_box(rows);
            }
            lat.push(t.elapsed().as_nanos() as u64);
        }
        latency_figure(cfg.list_queries, start.elapsed(), lat)
    }

    pub(super) async fn include(db: &Client, cfg: &Config, typed: bool) -> Figure {
        let users = db.model("users");
        let mut lat = Vec::with_capacity(cfg.include_queries);
        let start = Instant::now();
        for i in 0..cfg.include_queries {
            let lo = (splitmix64(i as u64) % (cfg.users as u64 - 100)) as i64 + 1;
            let t = Instant::now();
            let args = json!({
                "where": {"id": {"gte": lo, "lt": lo + 100}},
                "orderBy": {"id": "asc"},
                "include": {"posts": {"orderBy": {"id": "asc"}}}
            });
            if typed {
                let rows: Vec<UserWithPosts> = users.find_many_as(args).await.expect("find");
                std::hint::black_box(rows);
            } else {
                let rows = users.find_many(args).await.expect("find");
                std::hint::black_box(rows);
            }
            lat.push(t.elapsed().as_nanos() as u64);
        }
        latency_figure(cfg.include_queries, start.elapsed(), lat)
    }

    pub(super) async fn insert_conc(db: &Client, cfg: &Config) -> Figure {
        let start = Instant::now();
        let mut handles = Vec::new();
        for t in 0..cfg.insert_tasks {
            let posts = db.model("posts");
            let each = cfg.insert_each;
            handles.push(tokio::spawn(async move {
                for i in 0..each {
                    let (uid, title, body, views, at) = post_values((t * each + i) as i64 + 1);
                    let row = posts
                        .create(json!({"data": {"userId": uid, "title": title, "body": body, "views": views, "createdAt": at}}))
                        .await
                        .expect("create");
                    std::hint::black_box(row);
                }
            }));
        }
        for h in handles {
            h.await.expect("task");
        }
        rate_figure(cfg.insert_tasks * cfg.insert_each, start.elapsed())
    }

    pub(super) async fn insert_bulk(db: &Client, cfg: &Config) -> Figure {
        let data: Vec<serde_json::Value> = (0..cfg.bulk_rows)
            .map(|i| {
                let (uid, title, body, views, at) = post_values(i as i64 % cfg.posts + 1);
                json!({"userId": uid, "title": title, "body": body, "views": views, "createdAt": at})
            })
            .collect();
        let args = json!({ "data": data });
        let start = Instant::now();
        let r = db
            .model("posts")
            .create_many(args)
            .await
            .expect("create_many");
        let elapsed = start.elapsed();
        assert_eq!(r["count"], json!(cfg.bulk_rows));
        rate_figure(cfg.bulk_rows, elapsed)
    }

    pub(super) async fn mixed(db: &Client, cfg: &Config) -> Figure {
        let stop = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(AtomicU64::new(0));
        let writes = Arc::new(AtomicU64::new(0));
        let mut readers = Vec::new();
        for t in 0..32u64 {
            let users = db.model("users");
            let (stop, reads, n_users) = (stop.clone(), reads.clone(), cfg.users as u64);
            readers.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let id = (splitmix64(i ^ t << 40) % n_users) as i64 + 1;
                    let tt = Instant::now();
                    let u: Option<User> = users
                        .find_unique_as(json!({"where": {"id": id}}))
                        .await
                        .expect("find");
                    std::hint::black_box(u);
                    lat.push(tt.elapsed().as_nanos() as u64);
                    i += 1;
                }
                reads.fetch_add(i, Ordering::Relaxed);
                lat
            }));
        }
        let mut writers = Vec::new();
        let n_posts = cfg.posts;
        for t in 0..4i64 {
            let posts = db.model("posts");
            let (stop, writes) = (stop.clone(), writes.clone());
            writers.push(tokio::spawn(async move {
                let mut i = 0i64;
                while !stop.load(Ordering::Relaxed) {
                    let (uid, title, body, views, at) = post_values((t * 100_003 + i) % n_posts + 1);
                    posts
                        .create(json!({"data": {"userId": uid, "title": title, "body": body, "views": views, "createdAt": at}}))
                        .await
                        .expect("create");
                    i += 1;
                }
                writes.fetch_add(i as u64, Ordering::Relaxed);
            }));
        }
        tokio::time::sleep(Duration::from_secs_f64(cfg.mixed_secs)).await;
        stop.store(true, Ordering::Relaxed);
        let mut lat = Vec::new();
        for h in readers {
            lat.extend(h.await.expect("reader"));
        }
        for h in writers {
            h.await.expect("writer");
        }
        lat.sort_unstable();
        Figure {
            ops_per_s: reads.load(Ordering::Relaxed) as f64 / cfg.mixed_secs,
            p50_us: Some(percentile(&lat, 0.5)),
            p99_us: Some(percentile(&lat, 0.99)),
            extra: Some(writes.load(Ordering::Relaxed) as f64 / cfg.mixed_secs),
            rss_mib: None,
        }
    }

    pub(super) async fn stream_large(db: &Client) -> Figure {
        reset_peak_rss();
        let base = rss_mib();
        let start = Instant::now();
        let mut stream = db
            .model("big")
            .find_many_stream_as::<Big>(json!({"orderBy": {"id": "asc"}}));
        let mut count = 0usize;
        while let Some(row) = stream.next().await {
            std::hint::black_box(row.expect("row"));
            count += 1;
        }
        let mut f = rate_figure(count, start.elapsed());
        f.rss_mib = Some((peak_rss_mib() - base).max(0.0));
        f
    }
}

// ---------------------------------------------------------------- memory

fn read_status_kib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(key)).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .unwrap_or(0.0)
}

fn rss_mib() -> f64 {
    read_status_kib("VmRSS:") / 1024.0
}

fn peak_rss_mib() -> f64 {
    read_status_kib("VmHWM:") / 1024.0
}

/// Resets the kernel's peak-RSS counter so VmHWM measures this workload only.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

// ---------------------------------------------------------------- driver

/// One workload's figures for both systems.
struct Row {
    name: String,
    lite: Option<Figure>,
    base: Option<Figure>,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
}

impl Report {
    fn add(&mut self, workload: &str, system: &str, f: &Figure) {
        let line = json!({
            "system": system,
            "workload": workload,
            "ops_per_s": f.ops_per_s.round(),
            "p50_us": f.p50_us.map(|v| (v * 10.0).round() / 10.0),
            "p99_us": f.p99_us.map(|v| (v * 10.0).round() / 10.0),
            "writes_per_s": f.extra.map(f64::round),
            "peak_rss_mib": f.rss_mib.map(|v| (v * 10.0).round() / 10.0),
        });
        println!("{line}");
        let pos = match self.rows.iter().position(|r| r.name == workload) {
            Some(p) => p,
            None => {
                self.rows.push(Row {
                    name: workload.to_string(),
                    lite: None,
                    base: None,
                });
                self.rows.len() - 1
            }
        };
        let row = &mut self.rows[pos];
        if system == "rusqlite" {
            row.base = Some(f.clone());
        } else {
            row.lite = Some(f.clone());
        }
    }

    fn table(&self) -> String {
        let mut s = String::from(
            "| workload | litestone ops/s | p50 µs | p99 µs | rusqlite ops/s | p50 µs | p99 µs | ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        let fmt = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "–".into());
        for Row { name, lite, base } in &self.rows {
            let (Some(l), Some(b)) = (lite, base) else {
                continue;
            };
            let mut extra = String::new();
            if let (Some(le), Some(be)) = (l.extra, b.extra) {
                extra = format!(" (writes {:.0}/s vs {:.0}/s = {:.2}×)", le, be, le / be);
            }
            if let (Some(lr), Some(br)) = (l.rss_mib, b.rss_mib) {
                extra = format!(" (peak RSS +{lr:.1} MiB vs +{br:.1} MiB)");
            }
            s.push_str(&format!(
                "| {name} | {:.0} | {} | {} | {:.0} | {} | {} | {:.2}×{extra} |\n",
                l.ops_per_s,
                fmt(l.p50_us),
                fmt(l.p99_us),
                b.ops_per_s,
                fmt(b.p50_us),
                fmt(b.p99_us),
                l.ops_per_s / b.ops_per_s
            ));
        }
        s
    }
}

fn clear_added_posts(path: &Path, keep: i64) {
    let c = Connection::open(path).expect("open");
    apply_pragmas(&c, "NORMAL").expect("pragmas");
    c.execute("DELETE FROM posts WHERE id > ?", [keep])
        .expect("delete");
    // Rebuild the pages so the next system's inserts start from the same
    // compact b-trees the first one found (the DELETE leaves half-empty
    // index pages, which spared whichever system ran second its splits).
    c.execute_batch("VACUUM").expect("vacuum");
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
}

fn seed_big(path: &Path, n: i64) {
    let mut c = Connection::open(path).expect("open");
    apply_pragmas(&c, "NORMAL").expect("pragmas");
    let tx = c.transaction().expect("tx");
    {
        let mut st = tx
            .prepare("INSERT INTO big (id, n, label) VALUES (?, ?, ?)")
            .expect("prepare");
        for i in 1..=n {
            st.execute(params![
                i,
                (splitmix64(i as u64) % 1_000_000) as i64,
                format!("row {i}")
            ])
            .expect("insert");
        }
    }
    tx.commit().expect("commit");
}

fn main() {
    let cfg = Config::from_args();
    let dir = tempfile::tempdir().expect("tempdir");
    let path: PathBuf = dir.path().join("bench.db");
    let durable_path: PathBuf = dir.path().join("bench-durable.db");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    // Create the tables through litestone's own DDL, then seed untimed with rusqlite.
    let db = rt.block_on(async {
        let db = litestone::Client::builder()
            .schema(SCHEMA)
            .db_path(path.to_str().expect("utf8"))
            .auto_migrate(true)
            .open()
            .await
            .expect("open");
        db.close().await.expect("close");
        let db2 = litestone::Client::builder()
            .schema(SCHEMA)
            .db_path(durable_path.to_str().expect("utf8"))
            .auto_migrate(true)
            .open()
            .await
            .expect("open durable");
        db2.close().await.expect("close durable");
        seed(&path, cfg.users, cfg.posts).expect("seed");
        seed(&durable_path, cfg.users, cfg.posts).expect("seed durable");
        lite::open(&path, "NORMAL").await
    });

    // Warm-up (untimed): 1,000 sequential reads and 16 tasks × 50 concurrent reads.
    rt.block_on(async {
        let warm = Config {
            seq_reads: 1_000,
            conc_tasks: 16,
            conc_reads: 50,
            ..cfg.clone()
        };
        lite::point_read_seq(&db, &warm, true).await;
        lite::point_read_conc(&db, &warm, true).await;
    });
    let warm = Config {
        seq_reads: 1_000,
        conc_tasks: 16,
        conc_reads: 50,
        ..cfg.clone()
    };
    baseline::point_read_seq(&path, &warm);
    baseline::point_read_conc(&path, &warm);

    let mut report = Report::default();
    let runs = cfg.runs.max(1);
    macro_rules! measure {
        ($name:expr, $system:expr, $body:expr) => {{
            let mut figs = Vec::new();
            for _ in 0..runs {
                figs.push($body);
            }
            report.add($name, $system, &median_figure(figs));
        }};
    }

    for (typed, suffix) in [(true, ""), (false, "_json")] {
        let name = |w: &str| format!("{w}{suffix}");
        if cfg.wants("point_read_seq") {
            measure!(
                &name("point_read_seq"),
                "litestone",
                rt.block_on(lite::point_read_seq(&db, &cfg, typed))
            );
            measure!(
                &name("point_read_seq"),
                "rusqlite",
                baseline::point_read_seq(&path, &cfg)
            );
        }
        if cfg.wants("point_read_conc") {
            measure!(
                &name("point_read_conc"),
                "litestone",
                rt.block_on(lite::point_read_conc(&db, &cfg, typed))
            );
            measure!(
                &name("point_read_conc"),
                "rusqlite",
                baseline::point_read_conc(&path, &cfg)
            );
        }
        if cfg.wants("list_filter") {
            measure!(
                &name("list_filter"),
                "litestone",
                rt.block_on(lite::list_filter(&db, &cfg, typed))
            );
            measure!(
                &name("list_filter"),
                "rusqlite",
                baseline::list_filter(&path, &cfg)
            );
        }
        if cfg.wants("include") {
            measure!(
                &name("include"),
                "litestone",
                rt.block_on(lite::include(&db, &cfg, typed))
            );
            measure!(&name("include"), "rusqlite", baseline::include(&path, &cfg));
        }
    }

    let keep = cfg.posts;
    // Both systems' insert runs start from freshly vacuumed files.
    clear_added_posts(&path, keep);
    if cfg.wants("insert_conc") {
        measure!("insert_conc", "litestone", {
            let f = rt.block_on(lite::insert_conc(&db, &cfg));
            clear_added_posts(&path, keep);
            f
        });
        measure!("insert_conc", "rusqlite", {
            let f = baseline::insert_conc(&path, &cfg, "NORMAL");
            clear_added_posts(&path, keep);
            f
        });
    }
    if cfg.wants("insert_conc_durable") {
        clear_added_posts(&durable_path, keep);
        let durable = rt.block_on(lite::open(&durable_path, "FULL"));
        measure!("insert_conc_durable", "litestone", {
            let f = rt.block_on(lite::insert_conc(&durable, &cfg));
            clear_added_posts(&durable_path, keep);
            f
        });
        rt.block_on(durable.close()).expect("close");
        measure!("insert_conc_durable", "rusqlite", {
            let f = baseline::insert_conc(&durable_path, &cfg, "FULL");
            clear_added_posts(&durable_path, keep);
            f
        });
    }
    if cfg.wants("insert_bulk") {
        measure!("insert_bulk", "litestone", {
            let f = rt.block_on(lite::insert_bulk(&db, &cfg));
            clear_added_posts(&path, keep);
            f
        });
        measure!("insert_bulk", "rusqlite", {
            let f = baseline::insert_bulk(&path, &cfg);
            clear_added_posts(&path, keep);
            f
        });
    }
    if cfg.wants("mixed") {
        measure!("mixed", "litestone", {
            let f = rt.block_on(lite::mixed(&db, &cfg));
            clear_added_posts(&path, keep);
            f
        });
        measure!("mixed", "rusqlite", {
            let f = baseline::mixed(&path, &cfg);
            clear_added_posts(&path, keep);
            f
        });
    }
    if cfg.wants("stream_large") {
        seed_big(&path, cfg.big_rows);
        measure!(
            "stream_large",
            "litestone",
            rt.block_on(lite::stream_large(&db))
        );
        measure!("stream_large", "rusqlite", baseline::stream_large(&path));
    }

    rt.block_on(db.close()).expect("close");
    println!();
    println!(
        "machine: {} cores; runs per figure: {runs} (median)",
        threads()
    );
    println!();
    print!("{}", report.table());
}
