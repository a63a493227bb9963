//! A tiny HTML writer: escaping, sections, tables, headline tiles and the
//! page shell with its inline CSS (system fonts only, print styles).
//!
//! Every piece of text that comes from data goes through [`escape`]; the
//! only unescaped strings are the markup built here and the SVG of
//! [`super::charts`].

use std::fmt::Write as _;

/// Escapes text for HTML element content and double- or single-quoted
/// attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A table cell: escaped text plus how to show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Td {
    pub text: String,
    /// Right-aligned, tabular figures.
    pub numeric: bool,
    /// Shown muted with a tooltip explaining the redaction.
    pub redacted: bool,
    /// Optional tooltip.
    pub title: Option<String>,
}

impl Td {
    /// A text cell.
    pub fn text(text: impl Into<String>) -> Td {
        Td {
            text: text.into(),
            numeric: false,
            redacted: false,
            title: None,
        }
    }

    /// A right-aligned number cell.
    pub fn num(text: impl Into<String>) -> Td {
        Td {
            numeric: true,
            ..Td::text(text)
        }
    }

    /// A cell withheld by disclosure control.
    pub fn redacted(text: impl Into<String>) -> Td {
        Td {
            numeric: true,
            redacted: true,
            title: Some("withheld by disclosure control (a small number of people)".into()),
            ..Td::text(text)
        }
    }

    fn render(&self, out: &mut String) {
        let mut classes = Vec::new();
        if self.numeric {
            classes.push("num");
        }
        if self.redacted {
            classes.push("redacted");
        }
        out.push_str("<td");
        if !classes.is_empty() {
            let _ = write!(out, " class=\"{}\"", classes.join(" "));
        }
        if let Some(title) = &self.title {
            let _ = write!(out, " title=\"{}\"", escape(title));
        }
        let _ = write!(out, ">{}</td>", escape(&self.text));
    }
}

/// A table with an id, a caption, a header row and rows; a row can be highlighted.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub id: String,
    pub caption: String,
    pub headers: Vec<String>,
    /// (cells, highlighted).
    pub rows: Vec<(Vec<Td>, bool)>,
    /// Shown when there are no rows.
    pub empty: String,
}

impl Table {
    pub fn new(id: &str, caption: &str, headers: &[&str]) -> Table {
        Table {
            id: id.into(),
            caption: caption.into(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            empty: "Nothing to show.".into(),
        }
    }

    pub fn row(&mut self, cells: Vec<Td>) {
        self.rows.push((cells, false));
    }

    pub fn highlighted_row(&mut self, cells: Vec<Td>, highlighted: bool) {
        self.rows.push((cells, highlighted));
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<div class=\"table-wrap\"><table id=\"{}\"><caption>{}</caption><thead><tr>",
            escape(&self.id),
            escape(&self.caption)
        );
        for (i, h) in self.headers.iter().enumerate() {
            // A column of numbers gets a right-aligned header.
            let numeric = self
                .rows
                .first()
                .and_then(|(cells, _)| cells.get(i))
                .is_some_and(|c| c.numeric);
            let class = if numeric { " class=\"num\"" } else { "" };
            let _ = write!(out, "<th scope=\"col\"{class}>{}</th>", escape(h));
        }
        out.push_str("</tr></thead><tbody>");
        if self.rows.is_empty() {
            let _ = write!(
                out,
                "<tr><td class=\"empty\" colspan=\"{}\">{}</td></tr>",
                self.headers.len().max(1),
                escape(&self.empty)
            );
        }
        for (cells, highlighted) in &self.rows {
            out.push_str(if *highlighted {
                "<tr class=\"flagged\">"
            } else {
                "<tr>"
            });
            for c in cells {
                c.render(&mut out);
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table></div>");
        out
    }
}

/// The status of a headline tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Neutral,
    Good,
    Warn,
    Bad,
}

impl Status {
    fn class(self) -> &'static str {
        match self {
            Status::Neutral => "tile",
            Status::Good => "tile good",
            Status::Warn => "tile warn",
            Status::Bad => "tile bad",
        }
    }
}

/// A headline number with a label and a one-line explanation.
pub fn tile(label: &str, value: &str, note: &str, status: Status) -> String {
    format!(
        "<div class=\"{}\"><div class=\"tile-label\">{}</div><div class=\"tile-value\">{}</div><div class=\"tile-note\">{}</div></div>",
        status.class(),
        escape(label),
        escape(value),
        escape(note)
    )
}

/// A row of tiles.
pub fn tiles(items: &[String]) -> String {
    format!("<div class=\"tiles\">{}</div>", items.concat())
}

/// A chart: an inline SVG in a figure with an id and a caption.
pub fn figure(id: &str, svg: &str, caption: &str) -> String {
    format!(
        "<figure class=\"chart\" id=\"{}\">{}<figcaption>{}</figcaption></figure>",
        escape(id),
        svg,
        escape(caption)
    )
}

/// A paragraph of escaped text.
pub fn p(text: &str) -> String {
    format!("<p>{}</p>", escape(text))
}

/// A short explanatory paragraph, muted.
pub fn note(text: &str) -> String {
    format!("<p class=\"note\">{}</p>", escape(text))
}

/// A callout box: a list of messages under a heading.
pub fn callout(status: Status, heading: &str, items: &[String]) -> String {
    let class = match status {
        Status::Good => "callout good",
        Status::Warn => "callout warn",
        Status::Bad => "callout bad",
        Status::Neutral => "callout",
    };
    let mut out = format!(
        "<div class=\"{class}\"><strong>{}</strong>",
        escape(heading)
    );
    if !items.is_empty() {
        out.push_str("<ul>");
        for i in items {
            let _ = write!(out, "<li>{}</li>", escape(i));
        }
        out.push_str("</ul>");
    }
    out.push_str("</div>");
    out
}

/// Content laid out side by side on wide screens, stacked on narrow ones.
pub fn columns(parts: &[String]) -> String {
    let mut out = String::from("<div class=\"columns\">");
    for part in parts {
        let _ = write!(out, "<div>{part}</div>");
    }
    out.push_str("</div>");
    out
}

/// One section of a page.
#[derive(Debug, Clone)]
pub struct Section {
    pub id: String,
    pub title: String,
    /// Already-rendered HTML.
    pub body: String,
}

/// A whole page: title, subtitle, sections, footer.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub title: String,
    pub subtitle: String,
    /// HTML shown above the first section (headline tiles).
    pub lead: String,
    pub sections: Vec<Section>,
    pub footer: String,
}

impl Page {
    pub fn section(&mut self, id: &str, title: &str, body: String) {
        self.sections.push(Section {
            id: id.into(),
            title: title.into(),
            body,
        });
    }

    /// The complete, self-contained document.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(64 * 1024);
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
             <title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<header><h1>{}</h1><p class=\"subtitle\">{}</p></header>\n<nav aria-label=\"Sections\"><ul>",
            escape(&self.title),
            CSS,
            escape(&self.title),
            escape(&self.subtitle)
        );
        for s in &self.sections {
            let _ = write!(
                out,
                "<li><a href=\"#{}\">{}</a></li>",
                escape(&s.id),
                escape(&s.title)
            );
        }
        out.push_str("</ul></nav>\n<main>\n");
        out.push_str(&self.lead);
        for s in &self.sections {
            let _ = writeln!(
                out,
                "<section id=\"{}\"><h2>{}</h2>{}</section>",
                escape(&s.id),
                escape(&s.title),
                s.body
            );
        }
        let _ = write!(
            out,
            "</main>\n<footer>{}</footer>\n</body>\n</html>\n",
            self.footer
        );
        out
    }
}

/// Inline CSS: system font stack, readable measure, print rules.
const CSS: &str = r#"
:root{--ink:#1d2733;--muted:#5b6775;--line:#d9dee4;--bg:#f6f7f9;--card:#fff;--accent:#1f5f99;
--good:#1b7a3d;--good-bg:#e8f5ec;--warn:#8a5a00;--warn-bg:#fff4dc;--bad:#a12622;--bad-bg:#fdeceb;}
*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg);line-height:1.45;font-size:15px}
body{margin:0}
header{background:#17324d;color:#fff;padding:1.2rem 2rem 1rem}
header h1{margin:0;font-size:1.6rem;font-weight:650}
header .subtitle{margin:.3rem 0 0;color:#c9d6e3}
nav{background:#fff;border-bottom:1px solid var(--line);padding:.4rem 2rem;position:sticky;top:0;z-index:1}
nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.2rem 1.2rem}
nav a{color:var(--accent);text-decoration:none;font-size:.92rem}
nav a:hover{text-decoration:underline}
main{max-width:1180px;margin:0 auto;padding:1rem 2rem 2rem}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem 1.4rem 1.2rem;margin:1.1rem 0}
h2{margin:.1rem 0 .6rem;font-size:1.25rem;color:#17324d}
p{margin:.4rem 0 .7rem;max-width:80ch}
p.note{color:var(--muted);font-size:.9rem}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:.8rem;margin:1rem 0}
.tile{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--accent);border-radius:8px;padding:.7rem .9rem}
.tile.good{border-left-color:var(--good)}.tile.warn{border-left-color:#d49000}.tile.bad{border-left-color:var(--bad)}
.tile-label{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.tile-value{font-size:1.7rem;font-weight:650;font-variant-numeric:tabular-nums;margin:.1rem 0;overflow-wrap:anywhere}
.tile-note{font-size:.85rem;color:var(--muted)}
.callout{border-radius:6px;padding:.6rem .9rem;margin:.6rem 0;background:#eef3f8;border:1px solid #c9d8e8}
.callout.good{background:var(--good-bg);border-color:#b8dfc4;color:var(--good)}
.callout.warn{background:var(--warn-bg);border-color:#f0d49a;color:var(--warn)}
.callout.bad{background:var(--bad-bg);border-color:#f0bcb9;color:var(--bad)}
.callout ul{margin:.3rem 0 0;padding-left:1.2rem;color:var(--ink)}
.columns{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:1.2rem;align-items:start}
.table-wrap{overflow-x:auto;margin:.4rem 0 .8rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:.2rem 0 .4rem;color:var(--ink)}
th,td{padding:.32rem .6rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#f0f3f6;font-weight:600;font-size:.85rem;color:#33404d}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.num{white-space:nowrap}
td.redacted{color:var(--muted);font-style:italic}
td.empty{color:var(--muted);font-style:italic}
tr.flagged td{background:var(--warn-bg)}
tr.flagged td:first-child{box-shadow:inset 4px 0 0 #d49000}
figure.chart{margin:.4rem 0 1rem}
figure.chart svg{width:100%;height:auto;max-width:960px;display:block}
figure.chart svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
figcaption{font-size:.88rem;color:var(--muted);margin-top:.3rem;max-width:80ch}
footer{max-width:1180px;margin:0 auto;padding:0 2rem 2rem;color:var(--muted);font-size:.85rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em;overflow-wrap:anywhere}
@media (max-width:700px){main,header,nav,footer{padding-left:1rem;padding-right:1rem}}
@media print{
 html{background:#fff;font-size:11pt}
 header{background:#fff;color:#000;padding:0 0 .5rem;border-bottom:2px solid #000}
 header .subtitle{color:#333}
 nav{display:none}
 main{max-width:none;padding:0}
 section{border:none;border-top:1px solid #999;border-radius:0;padding:.5rem 0;break-inside:avoid-page}
 figure.chart,table,.tiles{break-inside:avoid}
 tr.flagged td{background:#eee}
 .tile{border:1px solid #999}
 a{color:inherit;text-decoration:none}
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain ≤7"), "plain ≤7");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn tables_escape_their_cells_and_mark_highlighted_rows() {
        let mut t = Table::new("t<1>", "A & B", &["name", "n"]);
        t.row(vec![Td::text("<script>"), Td::num("5")]);
        t.highlighted_row(vec![Td::text("x"), Td::redacted("≤7")], true);
        let html = t.render();
        assert!(html.contains("id=\"t&lt;1&gt;\""));
        assert!(html.contains("<caption>A &amp; B</caption>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("<tr class=\"flagged\">"));
        assert!(html.contains("class=\"num redacted\""));
    }

    #[test]
    fn an_empty_table_says_so() {
        let html = Table::new("e", "Empty", &["a", "b"]).render();
        assert!(html.contains("colspan=\"2\">Nothing to show.</td>"));
    }

    #[test]
    fn the_page_lists_every_section_and_loads_nothing_from_outside() {
        let mut page = Page {
            title: "T".into(),
            ..Page::default()
        };
        page.section("one", "One", p("a"));
        page.section("two", "Two", p("b"));
        let html = page.render();
        assert!(html.contains("<section id=\"one\">") && html.contains("href=\"#two\""));
        for outside in ["http://", "https://", "<script", "<link", "@import", "url("] {
            assert!(!html.contains(outside), "{outside}");
        }
    }
}
