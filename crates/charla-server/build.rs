//! Builds the operator web app (`web/` → `web/dist`) that `src/web.rs` embeds, and the website
//! chat widget (`web/widget` → `web/dist-widget`) that `src/visitor/pages.rs` embeds.
//!
//! Runs `npm ci` when `web/node_modules` is missing or older than `web/package-lock.json`, and
//! `npm run build` when a web source is newer than `web/dist/index.html`. Needs Node.js 20+
//! with npm; without npm it fails with a clear message (or only warns when an older build is
//! there to embed). `CHARLA_SKIP_WEB_BUILD=1` skips it (the server then serves a page saying
//! the app is missing).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// What `npm run build` reads (directories are scanned recursively).
const INPUTS: &[&str] =
    &["src", "widget", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts"];

fn main() {
    println!("cargo:rerun-if-env-changed=CHARLA_SKIP_WEB_BUILD");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let web = manifest.join("../../web");
    for input in INPUTS {
        println!("cargo:rerun-if-changed={}", web.join(input).display());
    }
    if std::env::var_os("CHARLA_SKIP_WEB_BUILD").is_some_and(|v| !v.is_empty() && v != "0") {
        return;
    }
    if !web.join("package.json").exists() {
        // Built outside the repository (no web sources): serve whatever was embedded, if anything.
        return;
    }
    let dist_index = web.join("dist/index.html");
    let built_at = modified(&dist_index);
    let newest_input = INPUTS.iter().filter_map(|i| newest(&web.join(i))).max();
    let stale = match (built_at, newest_input) {
        (Some(built), Some(input)) => input > built,
        (None, _) => true,
        (Some(_), None) => false,
    };
    if !stale {
        return;
    }
    let have_dist = built_at.is_some();
    if let Err(why) = build(&web) {
        if have_dist {
            println!("cargo:warning=the web app was not rebuilt, embedding the previous build: {why}");
        } else {
            panic!("\n\ncannot build the operator web app (web/): {why}\n\n");
        }
    }
}

fn build(web: &Path) -> Result<(), String> {
    match npm().arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => {
            return Err("`npm` was not found. Charla's web app needs Node.js 20+ with npm \
                 (https://nodejs.org, or `apt-get install nodejs npm`); set CHARLA_SKIP_WEB_BUILD=1 \
                 to build the server without it"
                .into());
        }
    }
    let lock = modified(&web.join("package-lock.json"));
    let installed = modified(&web.join("node_modules/.package-lock.json"));
    if installed.is_none() || lock.is_some_and(|l| Some(l) > installed) {
        run(web, &["ci", "--no-audit", "--no-fund"])?;
    }
    run(web, &["run", "build"])
}

fn npm() -> Command {
    if cfg!(windows) { Command::new("npm.cmd") } else { Command::new("npm") }
}

fn run(web: &Path, args: &[&str]) -> Result<(), String> {
    let out =
        npm().args(args).current_dir(web).output().map_err(|e| format!("cannot run npm {}: {e}", args.join(" ")))?;
    // Shown with `cargo build -vv`; on failure, in the panic message.
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`npm {}` failed ({}):\n{}\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest modification time under a file or directory.
fn newest(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    let mut best = meta.modified().ok();
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).ok()?.flatten() {
            let t = newest(&entry.path());
            if t > best {
                best = t;
            }
        }
    }
    best
}
