//! READMEs and package descriptions as HTML: CommonMark (pulldown-cmark) and then a whitelist sanitiser
//! (ammonia). The text is the publisher's, so the sanitiser, not the Markdown parser, is what makes it safe:
//! raw HTML in Markdown passes through the parser untouched and only the sanitiser's whitelist survives.
//! The console's CSP would stop a script anyway; this keeps the markup itself harmless as well.

use std::collections::HashSet;

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{html, Options, Parser};

/// The most of a README the console renders; the rest is cut (a package page is not a book).
pub const MAX_CHARS: usize = 512 * 1024;

/// `text` as sanitised HTML: no script, style, frame, form or event handler, links only to http(s) and
/// mailto (no `javascript:` nor `data:`), every link `rel="noopener noreferrer nofollow"`.
pub fn render(text: &str) -> String {
    let text = cut(text);
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    let mut raw = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(text, options));
    sanitiser().clean(&raw).to_string()
}

fn cut(text: &str) -> &str {
    match text.char_indices().nth(MAX_CHARS) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

fn sanitiser() -> Builder<'static> {
    let mut builder = Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        // Relative links would resolve against the console's own URLs, where they name nothing of the
        // package; fragments within the README still work.
        .url_relative(UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"));
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_harmless(html: &str) {
        let lower = html.to_ascii_lowercase();
        for bad in [
            "<script",
            "<style",
            "<iframe",
            "<form",
            "<input",
            "<object",
            "<embed",
            "<svg",
            "<math",
            "javascript:",
            "data:",
            "vbscript:",
            "<meta",
            "<link",
            "<base",
            "srcdoc",
            "formaction",
        ] {
            assert!(!lower.contains(bad), "{bad} survived in {html}");
        }
        // No attribute named on* anywhere: look for ` on` followed by letters and `=` inside a tag.
        let mut in_tag = false;
        let bytes = lower.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            match b {
                b'<' => in_tag = true,
                b'>' => in_tag = false,
                b' ' | b'\n' | b'\t' | b'/' if in_tag => {
                    let rest = &lower[i + 1..];
                    if rest.starts_with("on") {
                        let name: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_alphabetic())
                            .collect();
                        assert!(
                            !rest[name.len()..].trim_start().starts_with('='),
                            "event handler {name} survived in {html}"
                        );
                    }
                }
                _ => {}
            }
        }
    }

    #[test]
    fn ordinary_markdown_is_rendered() {
        let html =
            render("# Title\n\n- one\n- two\n\n```\nlet x = 1;\n```\n\n`inline` and **bold**\n");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(
            html.contains("<ul>") && html.contains("<li>one</li>"),
            "{html}"
        );
        assert!(
            html.contains("<pre><code>let x = 1;\n</code></pre>"),
            "{html}"
        );
        assert!(html.contains("<code>inline</code>") && html.contains("<strong>bold</strong>"));
        let table = render("| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(
            table.contains("<table>") && table.contains("<td>1</td>"),
            "{table}"
        );
    }

    #[test]
    fn scripts_handlers_and_frames_are_removed() {
        let hostile = [
            "<script>alert(1)</script>",
            "<SCRIPT SRC=//x.example/x.js></SCRIPT>",
            "<img src=x onerror=alert(1)>",
            "<img src=\"https://x.example/a.png\" onload=\"alert(1)\">",
            "<iframe src=\"https://x.example\"></iframe>",
            "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
            "<style>body{display:none}</style>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
            "<form action=\"https://x.example\"><input name=a><button formaction=javascript:alert(1)>go</button></form>",
            "<svg onload=alert(1)><circle/></svg>",
            "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
            "<object data=\"javascript:alert(1)\"></object><embed src=x.swf>",
            "<meta http-equiv=refresh content=\"0;url=javascript:alert(1)\">",
            "<base href=\"javascript:/\"><link rel=stylesheet href=x.css>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
            "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
            "<a href=\" javascript:alert(1)\">x</a>",
            "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
            "<img src=\"data:image/svg+xml;base64,PHN2Zz4=\">",
            "<details open ontoggle=alert(1)>x</details>",
            "<p/onmouseover=alert(1)>x</p>",
            "<<script>script>alert(1)<</script>/script>",
            "[x](javascript:alert(1))",
            "[x](JAVASCRIPT:alert(1))",
            "[x](data:text/html,<script>alert(1)</script>)",
            "[x]: javascript:alert(1)\n\n[y][x]",
            "![i](javascript:alert(1))",
            "![i](data:image/png;base64,AAAA)",
            "<http://x.example/\"onmouseover=\"alert(1)>",
            "- [ ] task\n- [x] done",
        ];
        for input in hostile {
            let html = render(input);
            assert_harmless(&html);
        }
        let all = render(&hostile.join("\n\n"));
        assert_harmless(&all);
    }

    #[test]
    fn links_get_rel_and_only_web_schemes() {
        let html = render(
            "[site](https://example.org/x) and [mail](mailto:a@example.org) and [r](docs/x.md)",
        );
        assert!(
            html.contains(
                "<a href=\"https://example.org/x\" rel=\"noopener noreferrer nofollow\">site</a>"
            ),
            "{html}"
        );
        assert!(html.contains("href=\"mailto:a@example.org\""), "{html}");
        assert!(
            !html.contains("docs/x.md"),
            "relative links are dropped: {html}"
        );
        let raw = render("<a href=\"https://example.org\" target=\"_blank\" rel=\"opener\">x</a>");
        assert!(
            raw.contains("rel=\"noopener noreferrer nofollow\""),
            "{raw}"
        );
        assert!(!raw.contains("rel=\"opener\""), "{raw}");
    }

    #[test]
    fn text_is_escaped_and_long_text_cut() {
        let html = render("a < b && c > d \"quoted\"");
        assert!(html.contains("a &lt; b &amp;&amp; c &gt; d"), "{html}");
        let long = "x".repeat(MAX_CHARS + 100);
        assert!(render(&long).len() < MAX_CHARS + 64);
    }
}
