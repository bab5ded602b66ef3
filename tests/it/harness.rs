//! Running the binary with a cleared environment, and temp dirs (std only).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::fake_dojo::FakeDojo;

/// The admin key the fake accepts.
pub const KEY: &str = "dojo-admin-key";

/// The binary under test: this build's, or `DOJO_HOOK_BIN` (the aarch64 release
/// binary, which `scripts/arm64-test.sh` runs these tests with).
pub fn binary() -> PathBuf {
    std::env::var_os("DOJO_HOOK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_dojo-hook")))
}

/// A command running `program`, through `DOJO_HOOK_RUNNER` when it is set
/// (qemu-user for a binary of another architecture).
fn command(program: &Path) -> Command {
    match std::env::var_os("DOJO_HOOK_RUNNER") {
        Some(runner) => {
            let mut cmd = Command::new(runner);
            cmd.arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dojo-hook-it-{}-{tag}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn file(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).expect("write temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fixture's path.
pub fn fixture(rel: &str) -> String {
    format!("{}/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))
}

/// What a run produced.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The JSON summary line (last line of stdout).
    pub fn summary(&self) -> serde_json::Value {
        let line = self
            .stdout
            .lines()
            .last()
            .unwrap_or_else(|| panic!("no summary line:\n{self}"));
        serde_json::from_str(line).unwrap_or_else(|e| panic!("summary is not JSON ({e}):\n{self}"))
    }

    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn expect(&self, code: i32) -> &Output {
        assert_eq!(self.code, code, "unexpected exit code:\n{self}");
        self
    }

    /// Asserts that neither stdout nor stderr contains any of `secrets`.
    #[track_caller]
    pub fn assert_clean<S: AsRef<str>>(&self, secrets: &[S]) {
        for secret in secrets.iter().map(AsRef::as_ref) {
            assert!(
                !self.stdout.contains(secret),
                "stdout leaks {secret:?}:\n{self}"
            );
            assert!(
                !self.stderr.contains(secret),
                "stderr leaks {secret:?}:\n{self}"
            );
        }
    }

    /// The one error line.
    pub fn error_line(&self) -> String {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.contains("error:"))
            .collect();
        assert_eq!(lines.len(), 1, "expected exactly one error line:\n{self}");
        lines[0].to_string()
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A run of the binary being built up.
pub struct Hook {
    env: Vec<(String, String)>,
    args: Vec<String>,
    /// Killed after this long (a run that would never end fails its test).
    limit: Option<Duration>,
    pub tmp: TempDir,
}

impl Hook {
    /// A run against `dojo` with the admin key, a scan name and a private TMPDIR.
    pub fn new(dojo: &FakeDojo) -> Hook {
        let tmp = TempDir::new("run");
        let spool = tmp.path().join("spool");
        std::fs::create_dir_all(&spool).expect("spool dir");
        Hook {
            env: vec![
                ("DEFECTDOJO_URL".into(), dojo.url.clone()),
                ("DEFECTDOJO_APIKEY".into(), KEY.into()),
                ("SCAN_NAME".into(), "scan-1".into()),
                ("TMPDIR".into(), spool.display().to_string()),
            ],
            args: Vec::new(),
            limit: None,
            tmp,
        }
    }

    /// No environment at all but what is set afterwards.
    pub fn bare() -> Hook {
        Hook {
            env: Vec::new(),
            args: Vec::new(),
            limit: None,
            tmp: TempDir::new("bare"),
        }
    }

    pub fn env(mut self, k: &str, v: impl Into<String>) -> Hook {
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.into(), v.into()));
        self
    }

    /// Kills the run if it has not ended after `limit` (exit code -1).
    pub fn within(mut self, limit: Duration) -> Hook {
        self.limit = Some(limit);
        self
    }

    pub fn args<S: AsRef<str>>(mut self, args: &[S]) -> Hook {
        self.args = args.iter().map(|a| a.as_ref().to_string()).collect();
        self
    }

    /// Writes a scan file (a Scan resource or flat annotations) and points SCAN_FILE at it.
    pub fn scan_file(self, json: &serde_json::Value) -> Hook {
        let path = self.tmp.file("scan.json", json.to_string());
        self.env("SCAN_FILE", path.display().to_string())
    }

    pub fn run(&self) -> Output {
        self.run_with(&binary(), |_| {})
    }

    /// Like [`Hook::run`], in the working directory `dir` (relative arguments).
    pub fn run_in(&self, dir: &Path) -> Output {
        self.run_with(&binary(), |c| {
            c.current_dir(dir);
        })
    }

    /// Like [`Hook::run`], with `program` (a copy of the binary) and the
    /// command adjusted first (working directory, user).
    pub fn run_with(&self, program: &Path, adjust: impl FnOnce(&mut Command)) -> Output {
        self.run_command(command(program), adjust)
    }

    /// Runs under `/usr/bin/time -f %M`: the output and the peak resident set size in
    /// KiB; `None` when `/usr/bin/time` is not installed (`make deps` installs it).
    pub fn run_measured(&self) -> Option<(Output, u64)> {
        let time = Path::new("/usr/bin/time");
        if !time.exists() {
            return None;
        }
        let report = self.tmp.path().join("peak-rss");
        let mut command = Command::new(time);
        command
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&report)
            .arg(binary());
        let out = self.run_command(command, |_| {});
        let text = std::fs::read_to_string(&report).expect("/usr/bin/time's report");
        let kib = text
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or_else(|| panic!("/usr/bin/time wrote {text:?}"));
        Some((out, kib))
    }

    /// Starts the binary without waiting (for signals); stdout and stderr piped.
    pub fn spawn(&self) -> std::process::Child {
        command(&binary())
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dojo-hook")
    }

    fn run_command(&self, mut cmd: Command, adjust: impl FnOnce(&mut Command)) -> Output {
        cmd.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(&self.args)
            .stdin(Stdio::null());
        adjust(&mut cmd);
        let out = match self.limit {
            None => cmd.output().expect("run dojo-hook"),
            Some(limit) => output_within(cmd, limit),
        };
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Like `Command::output`, but the child is killed after `limit`.
fn output_within(mut cmd: Command, limit: Duration) -> std::process::Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dojo-hook");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let started = Instant::now();
    while child.try_wait().expect("wait for dojo-hook").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            eprintln!("dojo-hook still ran after {limit:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::process::Output {
        status: child.wait().expect("wait for dojo-hook"),
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    }
}
