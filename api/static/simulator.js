// The simulator page: posts customer messages and polls the thread. No framework, no
// inline script (the page is served with a strict Content-Security-Policy).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const phoneInput = $("phone"), nameInput = $("name"), thread = $("thread"), text = $("text");
  let lastId = 0, polling = null, seen = new Set();

  function randomPhone() {
    let n = "97150";
    for (let i = 0; i < 7; i++) n += Math.floor(Math.random() * 10);
    return n;
  }
  function currentPhone() { return phoneInput.value.replace(/\D/g, ""); }

  function bubble(m) {
    if (seen.has(m.id)) return;
    seen.add(m.id);
    const li = document.createElement("li");
    li.className = "msg " + (m.author === "customer" ? "out" : "in") + " " + m.author;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = m.author === "customer" ? "You" : m.author === "manager" ? "Manager " + (m.author_name || "") : "Noor";
    const body = document.createElement("div");
    body.className = "body";
    body.dir = "auto";  // Arabic renders right-to-left
    body.textContent = m.text || (m.media_url ? "📎 " + m.media_url : "[" + m.kind + "]");
    if (m.media_url && m.kind === "document") {
      const a = document.createElement("a");
      a.href = m.media_url; a.textContent = "📄 open document"; a.target = "_blank"; a.rel = "noopener";
      body.appendChild(document.createElement("br")); body.appendChild(a);
    }
    const meta = document.createElement("small");
    meta.className = "meta";
    meta.textContent = new Date(m.created_at).toLocaleTimeString() + (m.delivery_status ? " · " + m.delivery_status : "");
    li.append(who, body, meta);
    thread.appendChild(li);
    thread.scrollTop = thread.scrollHeight;
  }

  async function poll() {
    const phone = currentPhone();
    if (!phone) return;
    try {
      const r = await fetch("/simulator/api/messages?phone=" + phone + "&after=" + lastId);
      if (!r.ok) return;
      const t = await r.json();
      for (const m of t.messages) { bubble(m); lastId = Math.max(lastId, m.id); }
      $("conv").textContent = t.conversation_id || "—";
      $("stage").textContent = t.stage || "—";
      $("owner").textContent = t.owner ? t.owner + (t.status === "escalated" ? " (escalated)" : "") : "—";
      if (t.workflow_url) { $("wf").href = t.workflow_url; $("wf").textContent = "open in Temporal UI"; }
    } catch (e) { /* the next poll retries */ }
  }

  function reset() {
    thread.replaceChildren(); lastId = 0; seen = new Set();
    ["conv", "stage", "owner"].forEach((k) => ($(k).textContent = "—"));
    $("wf").removeAttribute("href"); $("wf").textContent = "—";
    poll();
  }

  $("composer").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("error").textContent = "";
    const body = { phone: currentPhone(), name: nameInput.value, text: text.value };
    if (!body.text.trim()) return;
    const r = await fetch("/simulator/api/messages", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    if (!r.ok) {
      const e = await r.json().catch(() => ({}));
      $("error").textContent = (e.error && e.error.message) || ("send failed: HTTP " + r.status);
      return;
    }
    text.value = "";
    poll();
  });
  text.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("composer").requestSubmit(); }
  });
  $("newchat").addEventListener("click", () => { phoneInput.value = randomPhone(); reset(); });
  phoneInput.addEventListener("change", reset);

  fetch("/simulator/api/info").then((r) => r.json()).then((i) => {
    $("llm").textContent = i.llm_configured ? i.model + " @ " + i.llm : i.llm;
  });
  phoneInput.value = localStorage.getItem("sim-phone") || randomPhone();
  phoneInput.addEventListener("change", () => localStorage.setItem("sim-phone", currentPhone()));
  localStorage.setItem("sim-phone", currentPhone());
  poll();
  polling = setInterval(poll, 1000);
})();
