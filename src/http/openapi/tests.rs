//! The document against the routers: every management route is described, and nothing else is. axum's
//! `Router` does not list its routes, so the routes are read from the routers' source, which is what
//! defines them.

use std::collections::BTreeSet;

/// The files whose `.route(...)` calls build the management API (the package protocols and the console
/// are not part of it).
const ROUTER_SOURCES: [(&str, &str); 5] = [
    ("app.rs", include_str!("../app.rs")),
    ("artifact/mod.rs", include_str!("../artifact/mod.rs")),
    ("release/mod.rs", include_str!("../release/mod.rs")),
    ("iam/mod.rs", include_str!("../iam/mod.rs")),
    ("projectman/mod.rs", include_str!("../projectman/mod.rs")),
];

const METHODS: [&str; 6] = ["get", "put", "post", "delete", "patch", "head"];

/// `{anything}` becomes `{}`: the routers name parameters positionally (`{a}`), the document as the
/// SDK does.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// The argument list of the call opening at `open` (an index of `(`), up to its matching `)`.
fn call_arguments(source: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in source[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &source[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses after {open}")
}

/// (method, path shape) of every `.route("path", method(handler).method(handler)...)` in `source`;
/// `any(...)` counts as `any`.
fn routes_in(source: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (at, _) in source.match_indices(".route(") {
        let arguments = call_arguments(source, at + ".route".len());
        let path = arguments.split('"').nth(1).expect("a route's path literal");
        let handlers = &arguments[arguments.find(',').expect("a route's handlers")..];
        for method in METHODS.iter().chain(["any"].iter()) {
            let opening = format!("{method}(");
            let called = handlers.match_indices(&opening).any(|(i, _)| {
                i == 0 || !handlers[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            if called {
                found.push((method.to_string(), shape(path)));
            }
        }
    }
    found
}

fn documented() -> BTreeSet<(String, String)> {
    let doc: serde_json::Value = serde_json::from_str(&super::DOCUMENT).unwrap();
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|m| METHODS.contains(&m.as_str()))
                .map(move |m| (m.clone(), shape(path)))
        })
        .collect()
}

#[test]
fn every_management_route_is_documented_and_nothing_else() {
    let documented = documented();
    let mut routed = BTreeSet::new();
    for (file, source) in ROUTER_SOURCES {
        let routes = routes_in(source);
        assert!(!routes.is_empty(), "no routes read from {file}");
        for (method, path) in routes {
            if method == "any" {
                // A handler of its own methods (the release repository's transfers): the document
                // lists the ones it serves.
                assert!(
                    documented.iter().any(|(_, p)| *p == path),
                    "{file}: {path} (any method) is not documented"
                );
                routed.extend(documented.iter().filter(|(_, p)| *p == path).cloned());
            } else {
                routed.insert((method, path));
            }
        }
    }
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes the document lacks: {undocumented:?}"
    );
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
}

#[test]
fn the_route_reader_reads_chained_methods_and_skips_lookalikes() {
    let source = r#"
        .route("/a/{x}", get(h::show).patch(h::update).delete(h::delete))
        .route("/b", post(forget(h::x)))
        .route("/c/{*path}", any(t::handle))
    "#;
    let routes = routes_in(source);
    assert_eq!(
        routes,
        [
            ("get", "/a/{}"),
            ("delete", "/a/{}"),
            ("patch", "/a/{}"),
            ("post", "/b"),
            ("any", "/c/{}"),
        ]
        .map(|(m, p)| (m.to_string(), p.to_string()))
    );
}

#[test]
fn the_document_builds_with_unique_operation_ids_and_errors_everywhere() {
    let doc: serde_json::Value = serde_json::from_str(&super::DOCUMENT).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut ids = BTreeSet::new();
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            assert!(ids.insert(op["operationId"].as_str().unwrap().to_string()));
            if !super::operations::PATHS.contains(&path.as_str()) {
                for status in ["400", "401", "403", "404"] {
                    assert!(
                        op["responses"][status].is_object(),
                        "{method} {path} lacks {status}"
                    );
                }
            }
        }
    }
    assert!(count >= 130, "{count} operations");
}

/// `OpenApi::merge` keeps the first of two schemas of one name and drops the other without a word, so
/// the groups must not share a schema name (unless it is one shared type).
#[test]
fn the_groups_schema_names_do_not_collide() {
    use utoipa::OpenApi;
    let groups = [
        ("artifact", super::artifact::Doc::openapi()),
        ("audit", super::audit::Doc::openapi()),
        ("release", super::release::Doc::openapi()),
        ("iam", super::iam::Doc::openapi()),
        ("projectman", super::projectman::Doc::openapi()),
        ("operations", super::operations::Doc::openapi()),
    ];
    let mut seen: std::collections::BTreeMap<String, (&str, String)> = Default::default();
    for (group, doc) in &groups {
        for (name, schema) in &doc.components.as_ref().unwrap().schemas {
            let text = serde_json::to_string(schema).unwrap();
            if let Some((other, other_text)) = seen.get(name) {
                assert_eq!(
                    &text, other_text,
                    "schema {name} differs between {group} and {other}"
                );
            } else {
                seen.insert(name.clone(), (group, text));
            }
        }
    }
}
