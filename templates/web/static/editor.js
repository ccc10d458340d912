// Class editor: draws the form from the server's data (text only, never HTML) and posts it back as JSON.
(function () {
  "use strict";
  const form = document.getElementById("editor");
  if (!form) return;
  const data = JSON.parse(document.getElementById("form-data").textContent);
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const post = (url, body, json) => fetch(url, {
    method: "POST", body, headers: json ? { "X-CSRF-Token": token, "Content-Type": "application/json" } : { "X-CSRF-Token": token },
  });
  let roster = { name: data.roster || "", csv: null, remove: false };

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === true) node.setAttribute(k, "");
      else if (v !== false && v !== undefined && v !== null) node.setAttribute(k, v);
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }
  let uid = 0;
  function field(spec, prefix) {
    const id = prefix + "-" + spec.name + "-" + (uid++);
    const row = el("div", { class: "field" });
    row.append(el("label", { for: id }, spec.label));
    let input;
    if (spec.kind === "bool") {
      input = el("input", { type: "checkbox", id });
      input.checked = !!spec.value;
    } else if (spec.kind === "choice") {
      input = el("select", { id });
      for (const c of spec.choices) input.append(el("option", { value: c }, c || "(none)"));
      input.value = spec.value === null ? "" : String(spec.value);
    } else {
      input = el("input", { type: spec.kind === "number" ? "number" : "text", id, step: spec.step, min: spec.ge, max: spec.le });
      input.value = spec.value === null ? "" : String(spec.value);
    }
    input.dataset.field = spec.name;
    input.dataset.kind = spec.kind;
    row.append(input);
    if (spec.description) row.append(el("small", {}, spec.description));
    return row;
  }
  function values(box) {
    const out = {};
    for (const input of box.querySelectorAll(":scope > .field [data-field]")) {
      out[input.dataset.field] = input.dataset.kind === "bool" ? input.checked : input.value;
    }
    return out;
  }
  function moveButtons(item) {
    const up = el("button", { type: "button", class: "small", "aria-label": "Move up" }, "↑");
    const down = el("button", { type: "button", class: "small", "aria-label": "Move down" }, "↓");
    up.addEventListener("click", () => { if (item.previousElementSibling) item.parentNode.insertBefore(item, item.previousElementSibling); });
    down.addEventListener("click", () => { if (item.nextElementSibling) item.parentNode.insertBefore(item.nextElementSibling, item); });
    return [up, down];
  }

  // --- the class's own fields ---
  const profile = document.getElementById("profile");
  if (!data.exists) {
    profile.append(field({ name: "id", label: "Class id (file name)", kind: "text", value: data.id || "" }, "class"));
    profile.lastChild.querySelector("input").dataset.field = "__id";
  }
  for (const spec of data.fields) profile.append(field(spec, "class"));

  // --- roster ---
  const rosterBox = document.getElementById("roster");
  const rosterNow = el("p", { id: "roster-now" }, data.roster ? "Roster: " + data.roster : "No roster.");
  const upload = el("input", { type: "file", id: "roster-file", accept: ".csv,text/csv" });
  const removeBox = el("input", { type: "checkbox", id: "roster-remove" });
  const rosterProblems = el("ul", { class: "problems", id: "roster-problems" });
  const uploadRow = el("div", { class: "field" });
  uploadRow.append(el("label", { for: "roster-file" }, "Upload a CSV (a 'name' column)"), upload);
  const removeRow = el("div", { class: "field" });
  removeRow.append(el("label", { for: "roster-remove" }, "Remove the roster"), removeBox);
  rosterBox.append(rosterNow, uploadRow);
  if (data.roster) rosterBox.append(removeRow);
  rosterBox.append(rosterProblems);
  removeBox.addEventListener("change", () => { roster.remove = removeBox.checked; });
  upload.addEventListener("change", async () => {
    if (!upload.files.length) return;
    const body = new FormData();
    body.append("roster", upload.files[0]);
    const idInput = profile.querySelector('[data-field="__id"]');
    const cid = data.id || (idInput && idInput.value.trim());
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(cid || "")) {
      rosterProblems.replaceChildren(el("li", {}, "Give the class an id first: lowercase letters, digits and hyphens."));
      upload.value = "";
      return;
    }
    const res = await post("/class/" + encodeURIComponent(cid) + "/roster?name=" + encodeURIComponent(data.roster || ""), body);
    if (!res.ok) { rosterProblems.replaceChildren(el("li", {}, await res.text())); return; }
    const r = await res.json();
    rosterProblems.replaceChildren(...r.problems.map((p) => el("li", {}, p)));
    if (!r.problems.length) {
      roster = { name: r.name, csv: r.csv, remove: false };
      rosterNow.textContent = "New roster " + r.name + ": " + r.students.length + " students (saved with the class)";
    }
  });

  // --- lessons ---
  const list = document.getElementById("lesson-list");
  function questionItem(q, lesson) {
    const li = el("li", { "data-question": q.id, class: q.include ? "" : "excluded" });
    li.dataset.added = q.added ? "1" : "";
    if (q.extra) li.dataset.extra = JSON.stringify(q.extra);
    const head = el("div", { class: "qhead" });
    const tick = el("input", { type: "checkbox", id: "inc-" + lesson + "-" + q.id, class: "include" });
    tick.checked = q.include;
    tick.addEventListener("change", () => li.classList.toggle("excluded", !tick.checked));
    head.append(tick, el("label", { for: tick.id }, "Include"), el("code", {}, q.id),
                el("small", {}, q.type + ", " + q.difficulty + (q.added ? ", this class only" : "")), ...moveButtons(li));
    const text = el("textarea", { class: "prompt", "aria-label": "Wording of " + q.id, rows: Math.max(2, Math.ceil(q.prompt.length / 75)) });
    text.value = q.prompt;
    li.append(head, text);
    if (!q.added && q.prompt !== q.original) li.append(el("small", { class: "original" }, "Lesson's wording: " + q.original));
    return li;
  }
  function addForm(lesson, ol) {
    const box = el("details", { class: "add-question" });
    box.append(el("summary", {}, "Add a question for this class"));
    const specs = [
      { name: "id", label: "Question id", kind: "text", value: "" },
      { name: "type", label: "Type", kind: "choice", choices: data.types, value: data.types[0] },
      { name: "difficulty", label: "Difficulty", kind: "choice", choices: data.difficulties, value: "medium" },
      { name: "answer_lines", label: "Answer lines", kind: "number", step: "1", ge: 0, le: 40, value: 6 },
    ];
    const inner = el("div", { class: "add-fields" });
    for (const s of specs) inner.append(field(s, "add-" + lesson.id));
    const area = (name, label) => {
      const id = "add-" + lesson.id + "-" + name + "-" + (uid++);
      const row = el("div", { class: "field" });
      const t = el("textarea", { id, rows: 2 });
      t.dataset.field = name; t.dataset.kind = "text";
      row.append(el("label", { for: id }, label), t);
      return row;
    };
    inner.append(area("prompt", "Prompt"), area("answer", "Model answer (teacher edition)"),
                 area("evidence", "Evidence, one per line (e.g. s. 12-14)"), area("look_for", "Look for (optional)"));
    const ex = el("div", { class: "field" });
    ex.append(el("span", {}, "Excerpts"));
    const exBox = el("div", {});
    for (const e of lesson.excerpts) {
      const id = "ex-" + lesson.id + "-" + e.id + "-" + (uid++);
      const cb = el("input", { type: "checkbox", id, value: e.id, class: "excerpt" });
      exBox.append(cb, el("label", { for: id }, " " + e.id + (e.title ? " (" + e.title + ")" : "") + " "));
    }
    ex.append(exBox);
    inner.append(ex);
    const button = el("button", { type: "button", class: "add-q" }, "Add question");
    button.addEventListener("click", () => {
      const v = {};
      for (const input of inner.querySelectorAll("[data-field]")) v[input.dataset.field] = input.value.trim();
      v.excerpts = [...exBox.querySelectorAll("input.excerpt:checked")].map((c) => c.value);
      if (!v.id || !v.prompt) { button.setCustomValidity && alertIn(box, "Give the question an id and a prompt."); return; }
      ol.append(questionItem({ id: v.id, include: true, prompt: v.prompt, original: v.prompt, type: v.type,
                               difficulty: v.difficulty, added: true, extra: v }, lesson.id));
      for (const input of inner.querySelectorAll("[data-field]")) if (input.tagName === "TEXTAREA" || input.dataset.field === "id") input.value = "";
      box.open = false;
    });
    inner.append(button);
    box.append(inner);
    return box;
  }
  function alertIn(box, text) {
    let p = box.querySelector(".problems");
    if (!p) { p = el("p", { class: "problems", role: "alert" }); box.append(p); }
    p.textContent = text;
  }
  function lessonBox(lesson) {
    const box = el("fieldset", { class: "lesson", "data-lesson": lesson.id });
    const legend = el("legend", {}, lesson.title + " (" + lesson.id + ")");
    const drop = el("button", { type: "button", class: "small" }, "Remove from class");
    drop.addEventListener("click", () => { box.remove(); refreshAvailable(); });
    const head = el("div", { class: "lesson-head" });
    head.append(el("span", {}, "Move the lesson"), ...moveButtons(box), drop);
    box.append(legend, head);
    if (lesson.keep) { box.dataset.keep = "1"; return box; }
    for (const spec of lesson.fields) box.append(field(spec, "lesson-" + lesson.id));
    const ol = el("ol", { class: "questions" });
    for (const q of lesson.questions) ol.append(questionItem(q, lesson.id));
    box.append(el("p", { class: "hint" }, "Ticked questions print in this order."), ol, addForm(lesson, ol));
    return box;
  }
  for (const lesson of data.lessons) list.append(lessonBox(lesson));
  const pick = document.getElementById("add-lesson-id");
  function refreshAvailable() {
    const have = new Set([...list.querySelectorAll("fieldset.lesson")].map((f) => f.dataset.lesson));
    pick.replaceChildren(...data.available.filter((l) => !have.has(l.id)).map((l) => el("option", { value: l.id }, l.title + " (" + l.id + ")")));
  }
  refreshAvailable();
  document.getElementById("add-lesson").addEventListener("click", () => {
    if (pick.value) { list.append(lessonBox(data.templates[pick.value])); refreshAvailable(); }
  });

  // --- save, reload, build ---
  const status = document.getElementById("save-status");
  const problems = document.getElementById("save-problems");
  function gather() {
    const idInput = profile.querySelector('[data-field="__id"]');
    const out = { id: idInput ? idInput.value.trim() : data.id, base: data.base, fields: values(profile), lessons: [] };
    delete out.fields.__id;
    if (roster.csv !== null) { out.roster = roster.name; out.roster_csv = roster.csv; }
    else if (roster.remove) out.roster = "";
    for (const box of list.querySelectorAll("fieldset.lesson")) {
      const lesson = { id: box.dataset.lesson, fields: values(box), questions: [], add: [], keep: !!box.dataset.keep };
      for (const li of box.querySelectorAll("ol.questions > li")) {
        lesson.questions.push({ id: li.dataset.question, include: li.querySelector("input.include").checked,
                                prompt: li.querySelector("textarea.prompt").value });
        if (li.dataset.extra) lesson.add.push({ ...JSON.parse(li.dataset.extra), prompt: li.querySelector("textarea.prompt").value });
      }
      out.lessons.push(lesson);
    }
    return out;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = gather();
    status.textContent = "Saving…";
    problems.replaceChildren();
    const res = await post("/class/" + encodeURIComponent(data.id || "new") + "/save", JSON.stringify(body), true);
    const r = (res.headers.get("content-type") || "").includes("json") ? await res.json() : { problems: [await res.text()] };
    if (res.ok) {
      status.textContent = "Saved " + r.saved + ".";
      data.base = r.base;
      if (!data.exists) { window.location.assign(r.url); return; }
      for (const li of list.querySelectorAll("li[data-extra]")) li.removeAttribute("data-extra");
      roster.csv = null;
    } else if (res.status === 409) {
      status.replaceChildren(el("div", { class: "conflict" }, r.conflict.join("\n")));
      const again = el("button", { type: "button", id: "conflict-reload" }, "Reload the file from disk");
      again.addEventListener("click", () => window.location.reload());
      status.firstChild.append(" ", again);
    } else {
      status.textContent = "Not saved: " + (r.problems || []).length + " problem(s).";
      problems.replaceChildren(...(r.problems || []).map((p) => el("li", {}, p)));
    }
  });
  document.getElementById("reload").addEventListener("click", () => window.location.reload());
  const buildButton = document.getElementById("build");
  const buildStatus = document.getElementById("build-status");
  const buildFiles = document.getElementById("build-files");
  async function follow() {
    const res = await fetch("/api/build/" + encodeURIComponent(data.id));
    const r = await res.json();
    if (r.state === "running") {
      const bar = el("progress", { max: r.total || 1, value: r.done });
      buildStatus.replaceChildren(el("span", {}, "Building… " + r.done + " of " + (r.total || "?") + " documents "), bar);
      setTimeout(follow, 500);
      return;
    }
    buildButton.disabled = false;
    if (r.state === "done") {
      buildStatus.textContent = "Built: " + r.summary;
      buildFiles.replaceChildren(...r.files.map((f) => {
        const li = el("li", {});
        li.append(el("a", { href: f.url, target: "_blank", rel: "noopener" }, f.path),
                  el("small", {}, " " + (f.pages ? f.pages + " pages, " : "") + Math.round(f.size / 1024) + " KB"));
        return li;
      }));
    } else {
      buildStatus.textContent = "Build failed: " + (r.problems || []).length + " problem(s).";
      buildFiles.replaceChildren(...(r.problems || []).map((p) => el("li", { class: "problems" }, p)));
    }
  }
  if (buildButton) buildButton.addEventListener("click", async () => {
    buildButton.disabled = true;
    const res = await post("/class/" + encodeURIComponent(data.id) + "/build", "{}", true);
    const r = await res.json();
    if (r.state === "refused") { buildStatus.textContent = r.problems.join(" "); buildButton.disabled = false; return; }
    follow();
  });
})();
