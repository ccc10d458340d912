// Live preview: asks the server what the page shows now and redraws only when it changed.
(function () {
  "use strict";
  const box = document.getElementById("preview");
  if (!box) return;
  const overlay = document.getElementById("problems");
  const list = document.getElementById("problems-list");
  const title = document.getElementById("problems-title");
  const stale = document.getElementById("problems-stale");
  const url = "/api/preview/" + encodeURIComponent(box.dataset.kind) + "/" + encodeURIComponent(box.dataset.id);
  let shown = null;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function draw(data) {
    list.replaceChildren(...data.problems.map((p) => el("li", {}, p)));
    title.textContent = data.problems.length + (data.problems.length === 1 ? " problem" : " problems");
    overlay.hidden = data.problems.length === 0;
    stale.hidden = !data.stale;
    if (!data.editions.length && data.problems.length) return;  // keep the last good pages under the overlay
    const sections = data.editions.map((ed, i) => {
      const sec = el("section", { class: "edition", "data-kind": ed.kind, "data-lesson": ed.lesson, "aria-labelledby": "ed" + i });
      const head = el("h2", { id: "ed" + i }, ed.title);
      const link = el("a", { href: ed.pdf, target: "_blank", rel: "noopener", class: "pdf" }, "Open the PDF");
      sec.append(head, link);
      ed.pages.forEach((p, n) => {
        const fig = el("figure", { class: "page" });
        fig.append(el("img", { src: p.png, alt: "Page " + (n + 1) + " of " + ed.title, loading: n < 2 ? "eager" : "lazy" }));
        fig.append(el("figcaption", { class: "pagetext" }, p.text));
        sec.append(fig);
      });
      return sec;
    });
    box.replaceChildren(...sections);
  }

  async function poll() {
    try {
      const res = await fetch(url + (shown ? "?since=" + encodeURIComponent(shown) : ""), { headers: { Accept: "application/json" } });
      if (res.ok) {
        const data = await res.json();
        if (data.state !== shown) {
          shown = data.state;
          draw(data);
          box.dataset.state = String(Date.now());
        }
      }
    } catch (e) { /* the server is restarting: try again */ }
    setTimeout(poll, 1000);
  }
  poll();
})();
