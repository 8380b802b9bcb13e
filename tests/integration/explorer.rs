//! The web explorer in a real browser: headless Chromium driven through chromedriver (the W3C
//! WebDriver protocol, spoken with `ureq`) against the API on the sample dump. Each step writes a
//! screenshot under `target/explorer/`; the page weight and time to interactive go to
//! `target/explorer/metrics.txt`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::pipeline::ingest_dir;
use crate::util::{fixture, fresh_database, fresh_graph, neo4j_lock, start_api};

/// The key of an element reference in WebDriver's answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long a step may take to show what it should.
const PATIENCE: Duration = Duration::from_secs(15);

/// chromedriver on a free port, and one browser session through it; both end on drop.
struct Browser {
    driver: Child,
    url: String,
    agent: ureq::Agent,
    screenshots: PathBuf,
}

impl Browser {
    fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (scripts/services.sh browser installs it)");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while agent.get(&format!("{base}/status")).call().is_err() {
            assert!(started.elapsed() < PATIENCE, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let screenshots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/explorer");
        let _ = std::fs::remove_dir_all(&screenshots);
        std::fs::create_dir_all(&screenshots).unwrap();
        let mut browser = Browser {
            driver,
            url: base,
            agent,
            screenshots,
        };
        let session = browser.send(
            "POST",
            "/session",
            json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", "--window-size=1280,900"]
                },
                "goog:loggingPrefs": {"browser": "ALL"}
            }}}),
        );
        let id = session["sessionId"].as_str().unwrap().to_owned();
        browser.url = format!("{}/session/{id}", browser.url);
        browser
    }

    fn send(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.url);
        let mut response = match method {
            "GET" => self.agent.get(&url).call(),
            _ => self
                .agent
                .post(&url)
                .header("content-type", "application/json")
                .send(body.to_string()),
        }
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let text = response.body_mut().read_to_string().unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert!(
            response.status().is_success(),
            "{method} {path} {body}: {value}"
        );
        value["value"].clone()
    }

    fn open(&self, url: &str) {
        self.send("POST", "/url", json!({ "url": url }));
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page.
    fn run(&self, script: &str, args: Value) -> Value {
        self.send(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
    }

    /// Waits until `script` returns something truthy; returns it.
    fn until(&self, what: &str, script: &str) -> Value {
        let started = Instant::now();
        loop {
            let value = self.run(script, json!([]));
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            if started.elapsed() > PATIENCE {
                self.shot("timeout");
                panic!(
                    "waited {PATIENCE:?} for {what}; the page says: {}",
                    self.text("body")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The WebDriver id of the first element `css` selects.
    fn element(&self, css: &str) -> String {
        let found = self.send(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("{css}: {found}"))
            .to_owned()
    }

    fn click(&self, css: &str) {
        let id = self.element(css);
        self.send("POST", &format!("/element/{id}/click"), json!({}));
    }

    /// Enter on the element, as a keyboard user would (graph nodes move, so no pointer aims).
    fn press_enter(&self, css: &str) {
        self.run(
            "const el = document.querySelector(arguments[0]); el.focus();
             el.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));",
            json!([css]),
        );
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.send(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        );
    }

    fn text(&self, css: &str) -> String {
        self.run(
            "const el = document.querySelector(arguments[0]); return el ? el.innerText : '';",
            json!([css]),
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    fn count(&self, css: &str) -> u64 {
        self.run(
            "return document.querySelectorAll(arguments[0]).length;",
            json!([css]),
        )
        .as_u64()
        .unwrap()
    }

    /// Waits for the graph to be drawn and its layout to settle, then counts its nodes.
    fn settled_nodes(&self, css: &str) -> u64 {
        self.until(
            "the graph",
            "return document.querySelectorAll('.graph .node').length > 0;",
        );
        std::thread::sleep(Duration::from_millis(800));
        self.count(css)
    }

    fn shot(&self, name: &str) {
        let png = self.send("GET", "/screenshot", Value::Null);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        let index = self.screenshots.read_dir().map_or(0, Iterator::count) + 1;
        std::fs::write(
            self.screenshots.join(format!("{index:02}-{name}.png")),
            bytes,
        )
        .unwrap();
    }

    /// Severe messages the page logged since the last call (errors, failed loads).
    fn console_errors(&self) -> Vec<String> {
        let entries = self.send("POST", "/se/log", json!({"type": "browser"}));
        entries
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.url).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// GET `path` of the API, as JSON.
fn api(base: &str, path: &str) -> Value {
    let mut response = ureq::get(&format!("{base}{path}")).call().unwrap();
    serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_explorer_works_in_a_real_browser() {
    let _guard = neo4j_lock().await;
    let config = fresh_database("test_explorer").await;
    let neo4j = fresh_graph(&config).await;
    ingest_dir(&config, &fixture("xml2db"), false)
        .await
        .unwrap();
    // A name that is markup: it must show as text and run nothing.
    let pool = discogs::store::postgres::connect(&config.postgres)
        .await
        .unwrap();
    let hostile = "<script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\">Evil";
    pool.get()
        .await
        .unwrap()
        .execute(
            "UPDATE artists SET data = jsonb_set(data, '{name}', to_jsonb($1::text)) WHERE id = 32",
            &[&hostile],
        )
        .await
        .unwrap();
    neo4j
        .graph
        .run(neo4rs::query("MATCH (a:Artist {id: 32}) SET a.name = $name").param("name", hostile))
        .await
        .unwrap();
    let base = start_api(&config).await;
    tokio::task::spawn_blocking(move || walk_through(&base, hostile))
        .await
        .unwrap();
}

fn walk_through(base: &str, hostile: &str) {
    let browser = Browser::start();

    // The first page: totals, no console errors, small and quick.
    browser.open(&format!("{base}/"));
    browser.until(
        "the catalogue totals",
        "return document.getElementById('totals').innerText.startsWith('Catalogue');",
    );
    browser.until("the explorer to be ready", "return window.explorerReady;");
    let weight = browser.run(
        "const [nav] = performance.getEntriesByType('navigation');
         const resources = performance.getEntriesByType('resource');
         return {bytes: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
                 decoded: nav.decodedBodySize + resources.reduce((sum, r) => sum + r.decodedBodySize, 0),
                 interactive: window.explorerReady, files: resources.length + 1};",
        json!([]),
    );
    let metrics = format!(
        "first load: {} bytes transferred ({} decoded) in {} files; interactive after {:.0} ms\n",
        weight["bytes"],
        weight["decoded"],
        weight["files"],
        weight["interactive"].as_f64().unwrap()
    );
    print!("{metrics}");
    std::fs::write(browser.screenshots.join("metrics.txt"), &metrics).unwrap();
    assert!(weight["bytes"].as_u64().unwrap() < 300_000, "{metrics}");
    assert!(
        weight["interactive"].as_f64().unwrap() < 1_000.0,
        "{metrics}"
    );
    assert_eq!(browser.console_errors(), Vec::<String>::new());
    browser.shot("home");

    // Type a name, pick the suggestion: the graph holds the centre, the categories and each
    // category's first page, as the API gives them.
    browser.type_into("#find", "John Tej");
    browser.until(
        "a suggestion",
        "return [...document.querySelectorAll('.suggestions li[role=option]')].some(li => li.innerText.includes('John Tejada'));",
    );
    browser.shot("suggestions");
    browser.run(
        "const input = document.getElementById('find');
         const options = [...document.querySelectorAll('.suggestions li[role=option]')];
         const index = options.findIndex(li => li.innerText.includes('John Tejada'));
         for (let i = 0; i <= index; i++) input.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowDown', bubbles: true}));
         input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));",
        json!([]),
    );
    browser.until(
        "the explore URL",
        "return location.search.includes('name=John+Tejada');",
    );
    let explored = api(base, "/api/explore?name=John%20Tejada&type=artist");
    let categories = explored["categories"].as_array().unwrap();
    let (children, more) = first_pages(base, categories, None);
    assert!(children > 10, "{children}");
    assert_eq!(browser.settled_nodes(".graph .node.child"), children);
    assert_eq!(
        browser.count(".graph .node.category"),
        categories.len() as u64
    );
    assert_eq!(browser.count(".graph .node.center"), 1);
    assert_eq!(browser.count(".graph .node.more"), more);
    browser.shot("graph");

    // The next page of the first category that has one.
    assert!(
        more > 0,
        "some category of John Tejada has more than a page"
    );
    browser.press_enter(".graph .node.more");
    browser.until(
        "the next page",
        &format!("return document.querySelectorAll('.graph .node.child').length > {children};"),
    );
    browser.shot("next-page");

    // The centre's panel: its release count and its record.
    browser.press_enter(".graph .node.center");
    browser.until(
        "the panel",
        "return document.querySelector('.panel .release-count');",
    );
    let node = api(
        base,
        &format!(
            "/api/node/{}?type=artist",
            explored["center"]["id"].as_str().unwrap()
        ),
    );
    let shown = browser.text(".panel .release-count").replace(',', "");
    assert_eq!(shown, node["release_count"].to_string());
    browser.until(
        "the record",
        "return document.querySelector('.panel .record');",
    );
    browser.shot("panel");

    // A release's panel: its tracklist, every track and sub-track a row.
    let release = browser.run(
        "const node = document.querySelector('.graph .node.child.release');
         node.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
         return node.dataset.key.split(':').pop();",
        json!([]),
    );
    let record = api(
        base,
        &format!("/api/releases/{}", release.as_str().unwrap()),
    );
    let rows = tracks(&record["tracklist"]);
    assert!(rows > 0, "{record}");
    browser.until(
        "the release's tracklist",
        &format!("return document.querySelectorAll('.panel .tracklist tr').length === {rows};"),
    );
    browser.shot("release-panel");

    // Re-centre on a neighbour: double-click a label.
    let label = browser.run(
        "const node = document.querySelector('.graph .node.child.label');
         node.dispatchEvent(new MouseEvent('dblclick', {bubbles: true}));
         return node.querySelector('title').textContent.replace(/ \\(label\\)$/, '');",
        json!([]),
    );
    let label = label.as_str().unwrap().to_owned();
    browser.until(
        "the label's graph",
        &format!(
            "return document.querySelector('h1') && document.querySelector('h1').innerText.includes({});",
            json!(label)
        ),
    );
    assert_eq!(browser.settled_nodes(".graph .node.center"), 1);
    browser.shot("recentred");

    // Back returns to the artist.
    browser.send("POST", "/back", json!({}));
    browser.until(
        "the artist again",
        "return document.querySelector('h1') && document.querySelector('h1').innerText.includes('John Tejada');",
    );

    // The "before year" slider: every category's first page counts only older releases.
    browser.run(
        "const slider = document.querySelector('.before input');
         slider.value = 1999;
         slider.dispatchEvent(new Event('change'));",
        json!([]),
    );
    browser.until(
        "the filtered graph",
        "return location.search.includes('before=1999');",
    );
    let (older, _) = first_pages(base, categories, Some(1999));
    assert!(older < children, "{older} of {children}");
    browser.until(
        "the filtered children",
        &format!("return document.querySelectorAll('.graph .node.child').length === {older};"),
    );
    browser.shot("before-1999");

    // A genre's trends: one point per year the API gives.
    browser.open(&format!("{base}/?view=trends&type=genre&name=Electronic"));
    let trend = api(base, "/api/trends?name=Electronic&type=genre");
    let years = trend["data"].as_array().unwrap().len() as u64;
    assert!(years > 5, "{years}");
    browser.until(
        "the chart",
        "return document.querySelectorAll('.chart .point').length;",
    );
    assert_eq!(browser.count(".chart .point"), years);
    browser.run(
        "document.querySelector('.chart .point').dispatchEvent(new PointerEvent('pointerenter'));",
        json!([]),
    );
    let first = &trend["data"][0];
    assert!(
        browser
            .text(".readout")
            .starts_with(&format!("{}: {}", first["year"], first["count"])),
        "{}",
        browser.text(".readout")
    );
    browser.shot("trends");

    // A path between two artists, typed and picked in the form.
    browser.open(&format!("{base}/?view=path"));
    for (field, name) in [("from", "John Tejada"), ("to", "Blue Six")] {
        browser.type_into(&format!("input[name={field}]"), name);
        browser.until(
            "a suggestion",
            &format!(
                "return [...document.querySelectorAll('.field .suggestions li[role=option]')].some(li => !li.closest('ul').hidden && li.innerText.includes({}));",
                json!(name)
            ),
        );
        browser.run(
            "const item = [...document.querySelectorAll('.field .suggestions li[role=option]')]
               .find(li => !li.closest('ul').hidden && li.innerText.includes(arguments[0]));
             item.dispatchEvent(new MouseEvent('mousedown', {bubbles: true}));",
            json!([name]),
        );
    }
    browser.click(".path-form button[type=submit]");
    let path = api(
        base,
        "/api/path?from_name=John%20Tejada&from_type=artist&to_name=Blue%20Six&to_type=artist",
    );
    assert_eq!(path["found"], true, "{path}");
    browser.until(
        "the path",
        "return document.querySelectorAll('.chain .step').length;",
    );
    assert_eq!(
        browser.count(".chain .step"),
        path["path"].as_array().unwrap().len() as u64
    );
    browser.shot("path");

    // A search, then one of its facets.
    browser.open(&format!("{base}/?view=search&q=love"));
    browser.until(
        "the results",
        "return document.querySelectorAll('.hits li').length;",
    );
    browser.shot("search");
    browser.run(
        "[...document.querySelectorAll('.facets a')].find(a => a.href.includes('types=release')).click();",
        json!([]),
    );
    browser.until("the filtered results", "return location.search.includes('types=release') && document.querySelectorAll('.hits li').length && !document.querySelector('.results .loading');");
    let types = browser.run(
        "return [...new Set([...document.querySelectorAll('.hits .badge')].map(b => b.innerText.toLowerCase()))];",
        json!([]),
    );
    assert_eq!(types, json!(["release"]));
    browser.shot("search-facet");

    // The genre tree, from the navigation.
    browser.click("nav a[href='/?view=tree']");
    let tree = api(base, "/api/genre-tree");
    browser.until(
        "the genre tree",
        "return document.querySelectorAll('.genres > li').length;",
    );
    assert_eq!(
        browser.count(".genres > li"),
        tree["genres"].as_array().unwrap().len() as u64
    );
    browser.shot("genre-tree");

    // A deep link, reloaded, lands on the same view with its panel.
    let deep = format!("{base}/?view=explore&type=genre&name=Electronic&node=genre%3AElectronic");
    browser.open(&deep);
    browser.until(
        "the genre panel",
        "return document.querySelector('.panel .release-count');",
    );
    browser.send("POST", "/refresh", json!({}));
    browser.until("the genre panel again", "return document.querySelector('.panel .release-count') && document.querySelector('h1').innerText.includes('Electronic');");
    browser.shot("deep-link");

    // At a phone's width the panel goes below the graph.
    browser.send("POST", "/window/rect", json!({"width": 390, "height": 844}));
    browser.until(
        "the narrow layout",
        "const canvas = document.querySelector('.canvas').getBoundingClientRect();
         return document.querySelector('.panel').getBoundingClientRect().top >= canvas.bottom;",
    );
    browser.shot("phone");
    browser.send(
        "POST",
        "/window/rect",
        json!({"width": 1280, "height": 900}),
    );

    // The hostile name is text, and nothing in it ran.
    browser.open(&format!(
        "{base}/?view=explore&type=artist&name={}&node=artist%3A32",
        urlencode(hostile)
    ));
    browser.until(
        "the hostile artist's panel",
        "return document.querySelector('.panel h2');",
    );
    assert!(
        browser.text("h1").contains(hostile),
        "{}",
        browser.text("h1")
    );
    assert!(browser.text(".panel h2").contains(hostile));
    assert_eq!(
        browser.run("return window.pwned ?? null;", json!([])),
        Value::Null
    );
    assert_eq!(browser.count("main script, main img"), 0);
    browser.shot("markup-as-text");
    assert_eq!(browser.console_errors(), Vec::<String>::new());
}

/// The children and "more" nodes the first page of each of John Tejada's categories gives (with
/// releases before `before` only, when given).
fn first_pages(base: &str, categories: &[Value], before: Option<u32>) -> (u64, u64) {
    let (mut children, mut more) = (0, 0);
    let before = before.map_or(String::new(), |year| format!("&before_year={year}"));
    for category in categories {
        if category["count"].as_u64().unwrap() > 0 {
            let page = api(
                base,
                &format!(
                    "/api/expand?node_id=John%20Tejada&type=artist&category={}&limit=10{before}",
                    category["category"].as_str().unwrap()
                ),
            );
            children += page["children"].as_array().unwrap().len() as u64;
            more += u64::from(page["has_more"].as_bool().unwrap());
        }
    }
    (children, more)
}

/// Tracks of a tracklist, sub-tracks included (the rows the panel's table shows).
fn tracks(list: &Value) -> u64 {
    list.as_array().map_or(0, |list| {
        list.iter()
            .map(|track| 1 + tracks(&track["sub_tracks"]))
            .sum()
    })
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
