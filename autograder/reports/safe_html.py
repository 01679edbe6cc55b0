"""Pages that hold what a student's notebook displayed, made safe to open: an allow-list and a CSP.

A student's notebook can display any HTML; a TA opens its feedback page in the
same browser, on a hub on the same origin, as their own server. ``page`` keeps
the body's content only as the allow-list below permits (``nh3``, the Python
binding of the Rust sanitiser ammonia: text formatting, tables, images as
``data:`` URLs, links to http(s) pages, MathML; no script, event handler, form,
frame, object, style element or attribute, SVG or relative URL), and heads the
page with a Content-Security-Policy that forbids script, frames, forms, plugins
and any load but inline styles and ``data:`` images and fonts, should anything
slip through. The page's own styles (nbconvert's and the kit's) are the only CSS.
"""

import html

import nh3

CSP = (
    "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "frame-src 'none'; object-src 'none'; form-action 'none'; base-uri 'none'"
)
TEXT = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del", "details",
    "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "main", "mark", "ol", "p", "pre", "q", "s", "samp", "section", "small", "span", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
}  # fmt: skip
MATHML = {
    "math", "mi", "mn", "mo", "ms", "mtext", "mspace", "mrow", "mfrac", "msqrt", "mroot", "mstyle", "merror",
    "mpadded", "mphantom", "menclose", "msub", "msup", "msubsup", "munder", "mover", "munderover", "mtable", "mtr",
    "mtd", "semantics", "annotation",
}  # fmt: skip
ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
    **{
        tag: {"display", "mathvariant", "stretchy", "fence", "separator", "accent", "displaystyle", "scriptlevel",
              "columnalign", "lspace", "rspace", "form", "linethickness", "encoding"}
        for tag in MATHML
    },
}  # fmt: skip


def clean(fragment):
    """``fragment`` (HTML) with only what the allow-list permits."""
    return nh3.clean(
        fragment,
        tags=TEXT | MATHML,
        clean_content_tags={"script", "style", "svg", "template", "iframe", "object", "noscript"},
        attributes=ATTRIBUTES,
        attribute_filter=_url_filter,
        url_schemes={"http", "https", "data"},
        url_relative="deny",
    )


def _url_filter(element, attribute, value):
    """Links go to http(s) pages only, images come from ``data:image/`` URLs only."""
    if element == "a" and attribute == "href" and not value.lower().startswith(("http://", "https://")):
        return None
    if element == "img" and attribute == "src" and not value.lower().startswith("data:image/"):
        return None
    return value


def page(title, styles, body):
    """A whole page: ``body`` (HTML) cleaned, under the CSP, with the trusted ``styles`` (CSS texts) and the
    ``title`` (text)."""
    css = "".join("<style>" + style.replace("</", "<\\/") + "</style>" for style in styles)  # never closes early
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP)}">'
        f"<title>{html.escape(title)}</title>{css}</head><body>{clean(body)}</body></html>\n"
    )
