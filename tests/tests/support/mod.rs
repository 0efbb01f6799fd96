//! The harness: spawn the real `runnel` binary on a free port and a temporary data dir, and talk
//! to it over real HTTP.
//!
//! A [`Runnel`] owns the test's temporary root (`<root>/data` is the data dir, `<root>/stderr.log`
//! collects the stderr of every run) and the running child. It can be killed with SIGKILL,
//! stopped with SIGTERM and started again on the same data dir; each start picks a new free port,
//! so a restart never races a socket left in TIME_WAIT. Dropping it kills the child, and when the
//! test is failing it prints the server's stderr.
//!
//! The binary comes from `RUNNEL_BIN`, else `target/debug/runnel` next to this test executable.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// `Content-Type` of v2 produce bodies in the json embedded format.
pub const JSON_V2: &str = "application/vnd.kafka.json.v2+json";
/// `Content-Type` / `Accept` of the binary embedded format.
pub const BINARY_V2: &str = "application/vnd.kafka.binary.v2+json";
/// The schema registry's media type.
pub const SR: &str = "application/vnd.schemaregistry.v1+json";

/// How long a start may take until `/ready` answers.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a graceful stop may take.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Path of the `runnel` binary under test.
///
/// # Panics
/// When it does not exist, with the command that builds it.
pub fn runnel_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("RUNNEL_BIN") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "RUNNEL_BIN={} is not a file", p.display());
        return p;
    }
    // target/debug/deps/e2e-xxxx → target/debug/runnel
    let exe = std::env::current_exe().expect("current_exe");
    let candidate = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("runnel"))
        .expect("test binary has no grandparent directory");
    assert!(
        candidate.is_file(),
        "the runnel binary is missing at {}: run `cargo build -p runnel --bin runnel` first \
         (or set RUNNEL_BIN)",
        candidate.display()
    );
    // `cargo test -p runnel-e2e` does not rebuild the server: refuse to test a stale binary,
    // judged by the sources cargo's dep-info says it was built from.
    let built = std::fs::metadata(&candidate)
        .and_then(|m| m.modified())
        .expect("binary mtime");
    if let Some((newest, path)) = newest_source(&candidate.with_extension("d")) {
        assert!(
            newest <= built,
            "{} is older than {}: run `cargo build -p runnel --bin runnel` first \
             (or set RUNNEL_BIN to test another binary)",
            candidate.display(),
            path.display()
        );
    }
    candidate
}

/// The most recently modified source listed in a cargo dep-info file (`target/debug/runnel.d`).
fn newest_source(dep_info: &Path) -> Option<(std::time::SystemTime, PathBuf)> {
    let text = std::fs::read_to_string(dep_info).ok()?;
    let (_, sources) = text.lines().next()?.split_once(": ")?;
    sources
        .split_whitespace()
        .filter_map(|p| {
            let p = PathBuf::from(p);
            let m = std::fs::metadata(&p).and_then(|m| m.modified()).ok()?;
            Some((m, p))
        })
        .max()
}

/// A port that was free a moment ago (bind 127.0.0.1:0 and drop it).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local_addr").port()
}

/// An HTTP client with generous timeouts (a loaded 2-core CI box runs a debug build).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

/// How to start a server: extra environment and an optional command wrapper.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Extra environment variables (e.g. `RUNNEL_TOPIC_DEFAULTS_FLUSH_MESSAGES=1`).
    pub env: Vec<(String, String)>,
    /// A command the binary is run under, e.g. `["nsenter", "-t", "123", "-m", "--"]`; it must
    /// `exec` the binary so the child's pid is the server's.
    pub wrapper: Vec<OsString>,
    /// Data dir to use instead of `<root>/data` (e.g. inside a private tmpfs).
    pub data_dir: Option<PathBuf>,
}

impl Options {
    /// Options that only add environment variables.
    pub fn with_env(env: &[(&str, &str)]) -> Options {
        Options {
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Options::default()
        }
    }
}

/// A running (or stopped) `runnel serve` and its temporary root.
#[derive(Debug)]
pub struct Runnel {
    root: tempfile::TempDir,
    data_dir: PathBuf,
    log_path: PathBuf,
    options: Options,
    child: Option<Child>,
    port: u16,
    starts: u32,
    pub http: reqwest::Client,
}

impl Runnel {
    /// Starts a server on a fresh data dir and waits until it is ready.
    pub async fn start() -> Runnel {
        Runnel::start_with(Options::default()).await
    }

    /// Starts a server with `options` and waits until it is ready.
    pub async fn start_with(options: Options) -> Runnel {
        let mut r = Runnel::new(options);
        r.spawn_ready().await;
        r
    }

    /// Starts a server on a fresh data dir and creates `topic` with `partitions` partitions.
    pub async fn start_with_topic(topic: &str, partitions: u32) -> Runnel {
        let r = Runnel::start().await;
        r.create_topic(topic, partitions, &[]).await;
        r
    }

    /// Starts a server with extra environment variables and waits until it is ready.
    pub async fn start_with_env(env: &[(&str, &str)]) -> Runnel {
        Runnel::start_with(Options::with_env(env)).await
    }

    /// Prepares a root without starting anything ([`Runnel::spawn_ready`] starts).
    pub fn new(options: Options) -> Runnel {
        let root = tempfile::Builder::new()
            .prefix("runnel-e2e-")
            .tempdir()
            .expect("tempdir");
        let data_dir = options
            .data_dir
            .clone()
            .unwrap_or_else(|| root.path().join("data"));
        let log_path = root.path().join("stderr.log");
        File::create(&log_path).expect("create stderr log");
        Runnel {
            root,
            data_dir,
            log_path,
            options,
            child: None,
            port: 0,
            starts: 0,
            http: http_client(),
        }
    }

    /// The temporary root (parent of the default data dir).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Changes the wrapper for later starts.
    pub fn set_wrapper(&mut self, wrapper: Vec<OsString>) {
        self.options.wrapper = wrapper;
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Pid of the running server.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server is not running").id()
    }

    /// Everything the server wrote to stderr, over all runs.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Starts the binary on the data dir and a new free port; waits until `GET /ready` is 200.
    /// Retries with another port when the chosen one was taken in between.
    pub async fn spawn_ready(&mut self) {
        assert!(self.child.is_none(), "server already running");
        for attempt in 0..3 {
            self.spawn(attempt);
            match self.wait_ready().await {
                Ok(()) => return,
                Err(exited) => {
                    self.child = None;
                    let text = self.stderr();
                    let tail = text.rsplit("===== start").next().unwrap_or_default();
                    if tail.contains("cannot listen") && attempt < 2 {
                        continue;
                    }
                    panic!("runnel did not become ready ({exited}); stderr:\n{text}");
                }
            }
        }
    }

    /// Starts the binary on the data dir and a new free port, without waiting for it: brokers
    /// of a cluster become ready only together. `attempt` is noted in the stderr log.
    pub fn spawn(&mut self, attempt: u32) {
        assert!(self.child.is_none(), "server already running");
        self.port = free_port();
        self.starts += 1;
        let mut log = OpenOptions::new()
            .append(true)
            .open(&self.log_path)
            .expect("open stderr log");
        writeln!(
            log,
            "===== start {} (port {}, attempt {attempt}) =====",
            self.starts, self.port
        )
        .expect("write stderr log");
        let mut cmd = match self.options.wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(runnel_bin());
                c
            }
            None => Command::new(runnel_bin()),
        };
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .env("RUST_LOG", "info")
            .env_remove("RUNNEL_CONFIG")
            .env_remove("RUNNEL_BIN")
            .envs(self.options.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        self.child = Some(cmd.spawn().expect("spawn runnel"));
    }

    /// Polls `/ready` for up to [`READY_TIMEOUT`]; `Err` when the child exited or never answered.
    pub async fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let url = self.url("/ready");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!("exited with {status}"));
            }
            if let Ok(resp) = client.get(&url).send().await
                && resp.status() == 200
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                if let Some(mut c) = self.child.take() {
                    let _ = c.kill();
                    let _ = c.wait();
                }
                return Err(format!("not ready after {READY_TIMEOUT:?}"));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// SIGKILLs the server (`Child::kill`) and reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL runnel");
            c.wait().expect("reap runnel");
        }
    }

    /// Sends SIGTERM (`kill -TERM <pid>`) and waits for a clean exit (status 0).
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill -TERM");
        assert!(status.success(), "kill -TERM failed: {status}");
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                assert!(
                    status.success(),
                    "runnel exited with {status} after SIGTERM; stderr:\n{}",
                    self.stderr()
                );
                return;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "runnel did not exit within {STOP_TIMEOUT:?} of SIGTERM; stderr:\n{}",
                    self.stderr()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// SIGKILL, then start again on the same data dir.
    pub async fn crash_restart(&mut self) {
        self.kill9();
        self.spawn_ready().await;
    }

    /// SIGTERM, then start again on the same data dir.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.spawn_ready().await;
    }

    /// Whether the child is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Fails when stderr shows a panic.
    pub fn assert_no_panic(&self) {
        let text = self.stderr();
        assert!(
            !text.contains("panicked"),
            "runnel panicked; stderr:\n{text}"
        );
    }

    // ----- HTTP helpers -----

    /// `GET` returning `(status, JSON body or Null)`.
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let resp = self.http.get(self.url(path)).send().await.expect("GET");
        status_json(resp).await
    }

    /// `POST` a JSON body with `content_type`, returning `(status, JSON body or Null)`.
    pub async fn post(&self, path: &str, content_type: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url(path))
            .header("Content-Type", content_type)
            .body(body.to_string())
            .send()
            .await
            .expect("POST");
        status_json(resp).await
    }

    /// [`Runnel::post`] that must answer `status`; the JSON body.
    pub async fn post_expect(
        &self,
        path: &str,
        content_type: &str,
        body: &Value,
        status: u16,
    ) -> Value {
        let (got, answer) = self.post(path, content_type, body).await;
        assert_eq!(got, status, "POST {path}: {answer}");
        answer
    }

    /// `method path` with `headers` and an optional body, answered in full (any status).
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let mut req = self.http.request(method, self.url(path));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = body {
            req = req.body(body);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().expect("ASCII content type").to_owned())
            .unwrap_or_default();
        let text = resp.text().await.expect("response body");
        Reply {
            status,
            content_type,
            text,
        }
    }

    /// `method path` with an optional JSON body under `application/json` (the v3 API's type),
    /// returning `(status, JSON body or Null)`.
    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.call_as(method, path, "application/json", body).await
    }

    /// `method path` with an optional JSON body under the schema registry's media type,
    /// returning `(status, JSON body or Null)`.
    pub async fn sr_call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.call_as(method, path, SR, body).await
    }

    async fn call_as(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let (headers, body): (&[_], _) = match body {
            Some(b) => (&[("Content-Type", content_type)], Some(b.to_string())),
            None => (&[], None),
        };
        self.request(method, path, headers, body)
            .await
            .status_json()
    }

    /// Registers `schema` under `subject` in the schema registry; its id. Panics unless 200.
    pub async fn register_schema(&self, subject: &str, schema: &str) -> i64 {
        let path = format!("/subjects/{subject}/versions");
        let body = self
            .post_expect(&path, SR, &json!({ "schema": schema }), 200)
            .await;
        body["id"].as_i64().expect("schema id")
    }

    /// `GET path` with `Accept: accept`, returning `(status, JSON body or Null)`.
    pub async fn get_accept(&self, path: &str, accept: &str) -> (u16, Value) {
        self.request("GET", path, &[("Accept", accept)], None)
            .await
            .status_json()
    }

    /// The value of metric `name` (a line `<name> <value>` of `/metrics`).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
    }

    /// The one cluster id (`GET /v3/clusters`).
    pub async fn cluster_id(&self) -> String {
        let (status, body) = self.get_json("/v3/clusters").await;
        assert_eq!(status, 200, "GET /v3/clusters: {body}");
        body["data"][0]["cluster_id"]
            .as_str()
            .expect("cluster_id")
            .to_owned()
    }

    /// `POST /v3/clusters/{cid}/topics`, returning status and body.
    pub async fn try_create_topic(&self, body: &Value) -> (u16, Value) {
        let cid = self.cluster_id().await;
        self.post(
            &format!("/v3/clusters/{cid}/topics"),
            "application/json",
            body,
        )
        .await
    }

    /// Creates a topic; `configs` are `(name, value)` pairs. Panics unless 201.
    pub async fn create_topic(&self, name: &str, partitions: u32, configs: &[(&str, &str)]) {
        let configs: Vec<Value> = configs
            .iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect();
        let (status, body) = self
            .try_create_topic(&json!({
                "topic_name": name,
                "partitions_count": partitions,
                "configs": configs,
            }))
            .await;
        assert_eq!(status, 201, "create topic {name}: {body}");
    }

    /// v2 produce of JSON values to `POST /topics/{topic}`; returns status and body.
    pub async fn produce_json(&self, topic: &str, records: &[Value]) -> (u16, Value) {
        self.post(
            &format!("/topics/{topic}"),
            JSON_V2,
            &json!({ "records": records }),
        )
        .await
    }

    /// Produces JSON values and returns their offsets, panicking on any error.
    pub async fn produce_ok(&self, topic: &str, values: &[Value]) -> Vec<(u32, u64)> {
        let records: Vec<Value> = values.iter().map(|v| json!({ "value": v })).collect();
        let (status, body) = self.produce_json(topic, &records).await;
        assert_eq!(status, 200, "produce to {topic}: {body}");
        offsets_of(&body)
    }

    /// One stateless read; returns status and body.
    pub async fn read_raw(
        &self,
        topic: &str,
        partition: u32,
        offset: u64,
        accept: &str,
        extra_query: &str,
    ) -> (u16, Value) {
        self.get_accept(
            &format!(
                "/topics/{topic}/partitions/{partition}/records?offset={offset}&max_bytes=1048576{extra_query}"
            ),
            accept,
        )
        .await
    }

    /// Reads a partition from offset 0 to its end (json format), checking that offsets are
    /// contiguous from 0.
    pub async fn read_all(&self, topic: &str, partition: u32) -> Vec<Value> {
        self.read_from(topic, partition, 0, JSON_V2).await
    }

    /// Reads from `from` to the end in format `accept`, checking offsets are contiguous.
    pub async fn read_from(
        &self,
        topic: &str,
        partition: u32,
        from: u64,
        accept: &str,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        let mut next = from;
        loop {
            let (status, body) = self.read_raw(topic, partition, next, accept, "").await;
            assert_eq!(status, 200, "read {topic}/{partition} at {next}: {body}");
            let records = body.as_array().expect("read answers an array");
            if records.is_empty() {
                return out;
            }
            for r in records {
                let offset = r["offset"].as_u64().expect("record offset");
                assert_eq!(
                    offset, next,
                    "offsets of {topic}/{partition} are not contiguous: expected {next}, got {r}"
                );
                next += 1;
                out.push(r.clone());
            }
        }
    }
}

impl Drop for Runnel {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            let text = self.stderr();
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(300);
            eprintln!(
                "----- runnel stderr ({} of {} lines, data dir {}) -----",
                lines.len() - from,
                lines.len(),
                self.data_dir.display()
            );
            for l in &lines[from..] {
                eprintln!("{l}");
            }
            eprintln!("----- end of runnel stderr -----");
        }
    }
}

/// A whole answer, for tests that look past the JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// The `Content-Type` header, empty when there is none.
    pub content_type: String,
    pub text: String,
}

impl Reply {
    /// The body as JSON, Null when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// `(status, JSON body or Null)`, the pair [`assert_error`] takes.
    pub fn status_json(&self) -> (u16, Value) {
        (self.status, self.json())
    }
}

/// Status and JSON body (Null when the body is not JSON).
pub async fn status_json(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("response body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `(partition, offset)` of each record of a successful v2 produce response.
pub fn offsets_of(body: &Value) -> Vec<(u32, u64)> {
    body["offsets"]
        .as_array()
        .unwrap_or_else(|| panic!("no offsets in {body}"))
        .iter()
        .map(|o| {
            assert!(
                o["error_code"].is_null(),
                "record failed in a produce: {o} (whole response {body})"
            );
            (
                o["partition"].as_u64().expect("partition") as u32,
                o["offset"].as_u64().expect("offset"),
            )
        })
        .collect()
}

/// Asserts a Confluent error body: `status` and `{"error_code": code, "message": <string>}`.
pub fn assert_error(what: &str, got: &(u16, Value), status: u16, code: u64) {
    let (s, body) = got;
    assert_eq!(*s, status, "{what}: status, body {body}");
    assert_eq!(
        body["error_code"].as_u64(),
        Some(code),
        "{what}: error_code, body {body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: message, body {body}"
    );
}

/// Sends one raw HTTP/1.1 request over TCP, so the path reaches the server byte for byte (a URL
/// library would normalise `%2e%2e` away). Returns status and JSON body (or Null).
pub fn raw_request(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    raw_request_body(port, method, path, headers, "")
}

/// As [`raw_request`], with a body.
pub fn raw_request_body(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("read timeout");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("send");
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).expect("read response");
    let text = String::from_utf8_lossy(&resp);
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let json = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) if a <= b => serde_json::from_str(&body[a..=b]).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, json)
}

/// Every path under `dir` (relative), recursively.
pub fn snapshot(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p.clone());
            }
            out.insert(p.strip_prefix(dir).unwrap_or(&p).to_path_buf());
        }
    }
    out
}

/// Kafka's murmur2 (the Java client's `Utils.murmur2`), for checking key partitioning.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    match tail.len() {
        3 => {
            h ^= u32::from(tail[2]) << 16;
            h ^= u32::from(tail[1]) << 8;
            h ^= u32::from(tail[0]);
            h = h.wrapping_mul(M);
        }
        2 => {
            h ^= u32::from(tail[1]) << 8;
            h ^= u32::from(tail[0]);
            h = h.wrapping_mul(M);
        }
        1 => {
            h ^= u32::from(tail[0]);
            h = h.wrapping_mul(M);
        }
        _ => {}
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Kafka's default partition for a key: `toPositive(murmur2(key)) % n`.
pub fn kafka_partition(key: &[u8], n: u32) -> u32 {
    ((murmur2(key) & 0x7fff_ffff) as u32) % n
}

#[test]
fn murmur2_matches_kafka_vectors() {
    // From Kafka's UtilsTest.testMurmur2.
    assert_eq!(murmur2(b"21"), -973_932_308);
    assert_eq!(murmur2(b"foobar"), -790_332_482);
    assert_eq!(murmur2(b"a-little-bit-long-string"), -985_981_536);
    assert_eq!(murmur2(b"a-little-bit-longer-string"), -1_486_304_829);
    assert_eq!(
        murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"),
        -58_897_971
    );
    assert_eq!(murmur2(b"abc"), 479_470_107);
}

/// A WebSocket client connection to the server under test.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A produce socket on `topic` (JSON frames).
pub async fn ws_produce(r: &Runnel, topic: &str) -> Ws {
    let url = format!("ws://127.0.0.1:{}/v1/ws/produce?topic={topic}", r.port());
    tokio_tungstenite::connect_async(url).await.expect("ws").0
}

/// Sends one text frame and returns the next JSON text frame, skipping pings and pongs.
pub async fn ws_reply(ws: &mut Ws, text: String) -> Value {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message;
    ws.send(Message::Text(text.into())).await.expect("send");
    loop {
        match ws.next().await.expect("a reply").expect("frame") {
            Message::Text(t) => return serde_json::from_str(&t).expect("JSON frame"),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Brokers of one cluster, each a real `runnel serve` process with its own data dir, HTTP
/// port and cluster port, voters of one metadata quorum. Broker `i` (from 1) is `brokers[i-1]`.
#[derive(Debug)]
pub struct Cluster {
    pub brokers: Vec<Runnel>,
}

impl Cluster {
    /// Starts `n` voters together (each waits for a quorum before it is ready) with short
    /// liveness timings: a 2 s session, heartbeats every 250 ms.
    pub async fn start(n: u32) -> Cluster {
        let cluster_ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let peers = cluster_ports
            .iter()
            .zip(1..)
            .map(|(port, id)| format!("{id}@127.0.0.1:{port}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut brokers: Vec<Runnel> = cluster_ports
            .iter()
            .zip(1..)
            .map(|(port, id): (&u16, u32)| {
                Runnel::new(Options::with_env(&[
                    ("RUNNEL_NODE_ID", &id.to_string()),
                    ("RUNNEL_CLUSTER_LISTEN", &format!("127.0.0.1:{port}")),
                    ("RUNNEL_PEERS", &peers),
                    ("RUNNEL_BROKER_SESSION_TIMEOUT", "2s"),
                    ("RUNNEL_BROKER_HEARTBEAT_INTERVAL", "250ms"),
                ]))
            })
            .collect();
        for b in &mut brokers {
            b.spawn(0);
        }
        for b in &mut brokers {
            if let Err(e) = b.wait_ready().await {
                panic!("broker did not become ready ({e}); stderr:\n{}", b.stderr());
            }
        }
        Cluster { brokers }
    }

    /// Starts one more broker that joins the running cluster as a non-voting member (a Raft
    /// learner) through broker `via`'s cluster port; returns its id.
    pub async fn join(&mut self, via: u32) -> u32 {
        let (_, status) = self.broker(via).get_json("/v1/cluster").await;
        let addr = status["brokers"]
            .as_array()
            .and_then(|bs| bs.iter().find(|b| b["broker_id"] == via))
            .and_then(|b| b["cluster_addr"].as_str())
            .expect("the cluster address of the broker to join through")
            .to_owned();
        let id = u32::try_from(self.brokers.len()).expect("few brokers") + 1;
        let mut b = Runnel::new(Options::with_env(&[
            ("RUNNEL_NODE_ID", &id.to_string()),
            (
                "RUNNEL_CLUSTER_LISTEN",
                &format!("127.0.0.1:{}", free_port()),
            ),
            ("RUNNEL_JOIN", &addr),
            ("RUNNEL_BROKER_SESSION_TIMEOUT", "2s"),
            ("RUNNEL_BROKER_HEARTBEAT_INTERVAL", "250ms"),
        ]));
        b.spawn(0);
        if let Err(e) = b.wait_ready().await {
            panic!("broker {id} did not join ({e}); stderr:\n{}", b.stderr());
        }
        self.brokers.push(b);
        id
    }

    pub fn broker(&self, id: u32) -> &Runnel {
        &self.brokers[id as usize - 1]
    }

    pub fn broker_mut(&mut self, id: u32) -> &mut Runnel {
        &mut self.brokers[id as usize - 1]
    }

    /// Restarts a stopped broker on its data dir (a new HTTP port, the same cluster port).
    pub async fn restart(&mut self, id: u32) {
        let b = self.broker_mut(id);
        b.spawn(0);
        if let Err(e) = b.wait_ready().await {
            panic!(
                "broker {id} did not come back ({e}); stderr:\n{}",
                b.stderr()
            );
        }
    }

    /// Polls broker `id`'s `GET /v1/cluster` until `check` holds (or panics after the
    /// deadline with the last answer); returns that answer.
    pub async fn wait_status(&self, id: u32, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + CLUSTER_DEADLINE;
        loop {
            let (status, body) = self.broker(id).get_json("/v1/cluster").await;
            if status == 200 && check(&body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "broker {id}: {what} not seen within {CLUSTER_DEADLINE:?}; last: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// How long cluster tests wait for an election, a fencing or a catch-up: generous, since a
/// loaded 2-core machine can stall processes for seconds.
pub const CLUSTER_DEADLINE: Duration = Duration::from_secs(60);

/// The `fenced` flag of `broker` in a `/v1/cluster` answer (`None` when not registered).
pub fn fenced(status: &Value, broker: u32) -> Option<bool> {
    status["brokers"]
        .as_array()?
        .iter()
        .find(|b| b["broker_id"] == broker)
        .and_then(|b| b["fenced"].as_bool())
}
