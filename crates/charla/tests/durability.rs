//! `kill -9` right after acknowledged messages loses none of them, and the CLI contract
//! (`admin create`, `serve --listen --data`) works as documented.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Mutex;

const BIN: &str = env!("CARGO_BIN_EXE_charla");

fn start_server(data: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn charla serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read address line");
    let addr = line.trim().strip_prefix("charla listening on http://").expect("address line").to_string();
    (child, addr)
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn push(client: &reqwest::Client, base: &str, channel: i64, secret: &str, n: usize) -> reqwest::Result<Value> {
    let body = serde_json::to_vec(&json!({
        "message_id": format!("m-{n}"),
        "contact": {"external_id": format!("c-{}", n % 7), "name": format!("Customer {}", n % 7)},
        "text": format!("message number {n}"),
    }))
    .expect("json");
    let resp = client
        .post(format!("{base}/hooks/api/{channel}"))
        .header("Content-Type", "application/json")
        .header("X-Charla-Signature", sign(secret, &body))
        .body(body)
        .send()
        .await?
        .error_for_status()?;
    resp.json().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_after_acknowledgement_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new(BIN)
        .args(["admin", "create", "--email", "boss@example.com", "--password", "s3cret-pass", "--data"])
        .arg(dir.path())
        .status()
        .expect("admin create");
    assert!(status.success());
    // A second admin with the same e-mail is refused with a clear error.
    let again = Command::new(BIN)
        .args(["admin", "create", "--email", "boss@example.com", "--password", "s3cret-pass", "--data"])
        .arg(dir.path())
        .output()
        .expect("admin create again");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let (mut child, addr) = start_server(dir.path());
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "boss@example.com", "password": "s3cret-pass"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login json");
    let token = login["token"].as_str().expect("token").to_string();
    let channel: Value = client
        .post(format!("{base}/api/v1/channels"))
        .bearer_auth(&token)
        .json(&json!({"kind": "api", "name": "CRM", "webhook_url": "http://127.0.0.1:9/unused"}))
        .send()
        .await
        .expect("create channel")
        .json()
        .await
        .expect("channel json");
    let channel_id = channel["id"].as_i64().expect("channel id");
    let secret = channel["secret"].as_str().expect("secret").to_string();

    // Eight clients push messages until the server dies; record every acknowledgement.
    let acked: Arc<Mutex<Vec<(usize, i64)>>> = Arc::default();
    let dead = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for worker in 0..8usize {
        let (client, base, secret, acked, dead) =
            (client.clone(), base.clone(), secret.clone(), acked.clone(), dead.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = worker;
            while !dead.load(Ordering::SeqCst) {
                match push(&client, &base, channel_id, &secret, n).await {
                    Ok(v) => acked.lock().await.push((n, v["message_id"].as_i64().expect("id"))),
                    Err(_) => break,
                }
                n += 8;
            }
        }));
    }
    // Kill -9 as soon as a good number of messages were acknowledged, with requests in flight.
    loop {
        if acked.lock().await.len() >= 300 {
            break;
        }
        tokio::task::yield_now().await;
    }
    child.kill().expect("kill -9");
    dead.store(true, Ordering::SeqCst);
    let _ = child.wait();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().await.clone();
    assert!(acked.len() >= 300);

    // Restart: every acknowledged message is there — sending it again is a duplicate of the same id.
    let (mut child, addr) = start_server(dir.path());
    let base = format!("http://{addr}");
    for (n, id) in &acked {
        let v = push(&client, &base, channel_id, &secret, *n).await.expect("re-push");
        assert_eq!(v["duplicate"], json!(true), "message {n} was lost");
        assert_eq!(v["message_id"].as_i64(), Some(*id));
    }
    child.kill().expect("stop");
    let _ = child.wait();
}
