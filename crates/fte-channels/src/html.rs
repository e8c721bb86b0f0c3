//! The HTML part of our emails: a reply's small Markdown subset (paragraphs,
//! bold, bullet and numbered lists, links, bare http(s) addresses) rendered
//! safely, beside the text part.
//!
//! The parsing is pulldown-cmark's (CommonMark); what it yields is filtered
//! before rendering so that a reply can never carry markup of its own: raw
//! HTML becomes escaped text, images become their description, and only
//! http(s) and mailto links stay links (any other scheme, `javascript:`
//! included, keeps its text only). Bare addresses in the text become links,
//! as mail clients do for the text part.

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, html};

/// Whether `url` may become a link.
fn allowed(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:"))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Splits text into plain runs and bare http(s) addresses (without a
/// sentence's closing punctuation).
fn autolink(text: &str, out: &mut Vec<Event<'static>>) {
    let mut rest = text;
    while let Some(start) = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        let (before, from) = rest.split_at(start);
        let end = from
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '(' | ')'))
            .unwrap_or(from.len());
        let address = from[..end].trim_end_matches(['.', ',', ';', ':', '!', '?']);
        if !before.is_empty() {
            out.push(Event::Text(CowStr::from(before.to_owned())));
        }
        let url = CowStr::from(address.to_owned());
        out.push(Event::Start(Tag::Link {
            link_type: LinkType::Autolink,
            dest_url: url.clone(),
            title: CowStr::from(""),
            id: CowStr::from(""),
        }));
        out.push(Event::Text(url));
        out.push(Event::End(TagEnd::Link));
        rest = &from[address.len()..];
    }
    if !rest.is_empty() {
        out.push(Event::Text(CowStr::from(rest.to_owned())));
    }
}

/// The reply's body as HTML elements (no document around them).
pub fn markdown_to_html(markdown: &str) -> String {
    let mut events: Vec<Event<'static>> = Vec::new();
    // Open links: whether each was kept (its end is kept too).
    let mut links: Vec<bool> = Vec::new();
    let mut in_image = 0usize;
    for event in Parser::new_ext(markdown, Options::empty()) {
        match event {
            Event::Start(Tag::Image { .. }) => in_image += 1,
            Event::End(TagEnd::Image) => in_image = in_image.saturating_sub(1),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let keep = in_image == 0 && allowed(&dest_url);
                links.push(keep);
                if keep {
                    events.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url: CowStr::from(dest_url.into_string()),
                        title: CowStr::from(title.into_string()),
                        id: CowStr::from(id.into_string()),
                    }));
                }
            }
            Event::End(TagEnd::Link) => {
                if links.pop().unwrap_or(false) && in_image == 0 {
                    events.push(Event::End(TagEnd::Link));
                }
            }
            Event::Text(text) if links.is_empty() && in_image == 0 => autolink(&text, &mut events),
            Event::Text(text) | Event::Code(text) | Event::Html(text) | Event::InlineHtml(text) => {
                events.push(Event::Text(CowStr::from(text.into_string())));
            }
            Event::SoftBreak => events.push(Event::HardBreak),
            other => events.push(other.into_static()),
        }
    }
    let mut out = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut out, events.into_iter());
    out
}

/// A whole HTML email around `body` (rendered with [`markdown_to_html`]),
/// with inline styles only: mail clients drop style sheets and scripts.
pub fn email_document(markdown: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\
         <body style=\"margin:0;padding:16px;font-family:-apple-system,'Segoe UI',Roboto,Arial,sans-serif;\
         font-size:15px;line-height:1.5;color:#1d2130;background:#ffffff\">\
         <div style=\"max-width:40rem\">{}</div></body></html>\n",
        markdown_to_html(markdown)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subset_renders_as_html() {
        let html = markdown_to_html(
            "Hi Maria,\n\n1. Open **Settings**.\n2. See [the guide](https://help.orbitask.example/2fa).\n\nStatus: https://status.orbitask.example.",
        );
        assert!(html.contains("<p>Hi Maria,</p>"), "{html}");
        assert!(html.contains("<ol>"), "{html}");
        assert!(html.contains("<strong>Settings</strong>"), "{html}");
        assert!(
            html.contains(r#"<a href="https://help.orbitask.example/2fa">the guide</a>"#),
            "{html}"
        );
        assert!(
            html.contains(
                r#"<a href="https://status.orbitask.example">https://status.orbitask.example</a>."#
            ),
            "a bare address is linked without its full stop: {html}"
        );
    }

    #[test]
    fn a_reply_cannot_carry_markup_or_a_script_link() {
        let html = markdown_to_html(
            "<script>alert(1)</script>\n\nHi <b onclick=\"x\">there</b> [click](javascript:alert(1)) \
             ![pixel](https://tracker.example/p.gif) [mail](mailto:help@orbitask.example)",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b "), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(
            html.contains("&lt;script&gt;"),
            "raw HTML shows as text: {html}"
        );
        assert!(
            html.contains("click"),
            "the refused link keeps its text: {html}"
        );
        assert!(
            html.contains(r#"<a href="mailto:help@orbitask.example">mail</a>"#),
            "{html}"
        );
    }

    #[test]
    fn the_document_has_inline_styles_only() {
        let doc = email_document("Done.");
        assert!(doc.starts_with("<!doctype html>"));
        assert!(doc.contains("<p>Done.</p>"));
        assert!(!doc.contains("<style") && !doc.contains("<script"));
    }
}
