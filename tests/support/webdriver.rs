//! A small WebDriver client for the browser tests: starts Debian's `chromedriver` on a free
//! loopback port and drives a headless `chromium` over the W3C WebDriver JSON protocol with
//! the same HTTP client the other tests use. Only what the tests need: navigate, find, click,
//! type, read, run a script, press keys, cookies, screenshots.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http;
use crate::process::free_port;

/// The key WebDriver names element references by.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long a wait for the page lasts before the test fails.
const WAIT: Duration = Duration::from_secs(15);

/// A running chromedriver and one headless browser session. Both end on drop.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
}

/// An element of the page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    /// Starts chromedriver and a headless Chromium with a tablet-and-up window of
    /// `width` x `height` CSS pixels. Panics with what to install when they are missing.
    pub fn start(width: u32, height: u32) -> Browser {
        let driver_path = which("chromedriver").expect(
            "chromedriver not found: install Debian's chromium and chromium-driver (scripts/test.sh does)",
        );
        let chromium = which("chromium").expect("chromium not found: install Debian's chromium");
        let port = free_port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        loop {
            let ready = http()
                .get(&format!("{base}/status"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
        };
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--lang=zh-CN",
                         format!("--window-size={width},{height}")]
            }
        }}});
        let created = browser.call("POST", "/session", caps);
        browser.session = created["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        browser
    }

    /// One WebDriver command; panics on a WebDriver error with its message.
    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let agent = http();
        let resp = match method {
            "GET" => agent.get(&url).call(),
            "DELETE" => agent.delete(&url).call(),
            _ => agent.post(&url).send_json(&body),
        };
        let mut resp = resp.unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = resp.status().as_u16();
        let value: Value = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_json()
            .unwrap_or(Value::Null);
        assert!(
            status < 400,
            "WebDriver {method} {path} answered {status}: {}",
            value["value"]["message"]
        );
        value["value"].clone()
    }

    fn session_call(&self, method: &str, path: &str, body: Value) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    /// Opens `url` and waits until the page has loaded.
    pub fn goto(&self, url: &str) {
        self.session_call("POST", "/url", json!({ "url": url }));
    }

    pub fn current_url(&self) -> String {
        self.session_call("GET", "/url", Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The elements matching a CSS selector now.
    pub fn find_all(&self, css: &str) -> Vec<Element> {
        self.session_call(
            "POST",
            "/elements",
            json!({"using": "css selector", "value": css}),
        )
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e[ELEMENT_KEY].as_str().map(|s| Element(s.to_string())))
                .collect()
        })
        .unwrap_or_default()
    }

    /// Waits for an element matching a CSS selector.
    pub fn wait_for(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(e) = self.find_all(css).into_iter().next() {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "no element {css} on {} after {WAIT:?}; the page:\n{}",
                self.current_url(),
                self.text_of_page()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until `script` (a function body returning a value) returns true.
    pub fn wait_until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + WAIT;
        while self.run(script, json!([])) != Value::Bool(true) {
            assert!(
                Instant::now() < deadline,
                "waited {WAIT:?} for {what} on {}; the page:\n{}",
                self.current_url(),
                self.text_of_page()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn click(&self, e: &Element) {
        self.session_call("POST", &format!("/element/{}/click", e.0), json!({}));
    }

    /// Types `text` into an input or text area.
    pub fn type_into(&self, e: &Element, text: &str) {
        self.session_call(
            "POST",
            &format!("/element/{}/value", e.0),
            json!({ "text": text }),
        );
    }

    /// The element's rendered text.
    pub fn text(&self, e: &Element) -> String {
        self.session_call("GET", &format!("/element/{}/text", e.0), Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The text of the whole page (for failure messages).
    pub fn text_of_page(&self) -> String {
        self.run(
            "return document.body ? document.body.innerText : ''",
            json!([]),
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Runs a script (a function body) with `args` and returns its value.
    pub fn run(&self, script: &str, args: Value) -> Value {
        self.session_call(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": args }),
        )
    }

    /// Presses and releases one key on whatever has the focus.
    pub fn press_key(&self, key: &str) {
        self.session_call(
            "POST",
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}
            ]}]}),
        );
        self.session_call("DELETE", "/actions", Value::Null);
    }

    /// The value of a cookie of the current page (HttpOnly ones too).
    pub fn cookie(&self, name: &str) -> Option<Value> {
        let all = self.session_call("GET", "/cookie", Value::Null);
        all.as_array()?.iter().find(|c| c["name"] == name).cloned()
    }

    pub fn delete_cookies(&self) {
        self.session_call("DELETE", "/cookie", Value::Null);
    }

    /// Saves a PNG screenshot of the window to `path` (folders created).
    pub fn screenshot(&self, path: &Path) {
        let b64 = self.session_call("GET", "/screenshot", Value::Null);
        let png = decode_base64(b64.as_str().expect("screenshot data"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot folder");
        }
        std::fs::write(path, png).expect("write screenshot");
    }

    /// Saves a screenshot of the whole page, not only the window: the window is made as tall
    /// as the page first.
    pub fn full_page_screenshot(&self, path: &Path, width: u32) {
        let height = self
            .run("return document.documentElement.scrollHeight", json!([]))
            .as_u64()
            .unwrap_or(900)
            .clamp(600, 6000);
        self.session_call(
            "POST",
            "/window/rect",
            json!({"width": width, "height": height + 140}),
        );
        self.screenshot(path);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http()
                .delete(&format!("{}/session/{}", self.base, self.session))
                .call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Where the browser tests write screenshots: `<target dir>/<folder>` (the test names it).
pub fn screenshot_dir(folder: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // <target>/debug/deps/e2e-<hash>
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the test executable is under the target dir");
    target.join(folder)
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

/// Standard base64 (what WebDriver sends screenshots in).
fn decode_base64(s: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for v in s.bytes().filter_map(value) {
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_decodes() {
        assert_eq!(super::decode_base64("aGVsbG8="), b"hello");
        assert_eq!(super::decode_base64("SGk="), b"Hi");
    }
}
