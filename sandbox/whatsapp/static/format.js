// WhatsApp text formatting -> safe HTML: *bold*, _italic_, ~strike~, `code`, ```monospace```.
// Everything is HTML-escaped first; only the tags made here reach the page.
"use strict";

(function (global) {
  function escapeHtml(text) {
    return String(text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  // A marker only counts next to non-space text and outside words, as in WhatsApp ("2*3*4" stays).
  function inline(marker, tag) {
    const m = marker.replace(/[*~]/g, "\\$&");
    const re = new RegExp("(^|[^\\w" + m + "])" + m + "(?!\\s)([^" + m + "\\n]+?)(?<!\\s)" + m + "(?![\\w" + m + "])", "g");
    return (html) => html.replace(re, "$1<" + tag + ">$2</" + tag + ">");
  }
  const bold = inline("*", "strong");
  const italic = inline("_", "em");
  const strike = inline("~", "s");

  function formatWhatsApp(text) {
    // code spans are set aside so that markers inside them stay literal
    const stash = [];
    const keep = (html) => "\u0000" + (stash.push(html) - 1) + "\u0000";
    let html = escapeHtml(text)
      .replace(/```([\s\S]+?)```/g, (_, code) => keep('<code class="mono">' + code + "</code>"))
      .replace(/`([^`\n]+)`/g, (_, code) => keep("<code>" + code + "</code>"));
    html = strike(italic(bold(html)));
    return html.replace(/\u0000(\d+)\u0000/g, (_, i) => stash[Number(i)]);
  }

  global.WAFormat = { escapeHtml, formatWhatsApp };
})(window);
