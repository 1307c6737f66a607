// meshlint's HTML report: filters for the findings, and zoom, pan and selection for the call
// graph. Everything it shows comes from the markup (ids, data- attributes, text); it writes text
// with textContent only, never markup, so nothing of the input can become an element.
(function () {
  "use strict";

  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  // --- findings ------------------------------------------------------------------------------

  function findingFilters() {
    const form = $("#filters");
    if (!form) return null;
    const cards = $$("#findings-list .finding");
    const texts = cards.map((card) => card.textContent.toLowerCase());
    const severities = $$("input[name=severity]", form);
    const rule = $("#filter-rule");
    const namespace = $("#filter-namespace");
    const text = $("#filter-text");
    const shown = $("#shown-count");
    const none = $("#no-match");

    function apply() {
      const wanted = new Set(severities.filter((box) => box.checked).map((box) => box.value));
      const words = text.value.toLowerCase().split(/\s+/).filter(Boolean);
      let count = 0;
      cards.forEach((card, i) => {
        const show = wanted.has(card.dataset.severity)
          && (!rule.value || card.dataset.code === rule.value)
          && (!namespace.value || "ns:" + card.dataset.namespace === namespace.value)
          && words.every((word) => texts[i].includes(word));
        card.hidden = !show;
        if (show) count += 1;
      });
      shown.textContent = String(count);
      none.hidden = count > 0 || cards.length === 0;
    }

    let pending = 0;
    text.addEventListener("input", () => {
      clearTimeout(pending);
      pending = setTimeout(apply, 80);
    });
    form.addEventListener("change", apply);
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("reset", () => setTimeout(apply, 0));

    function select(control, value) {
      if (![...control.options].some((option) => option.value === value)) return;
      control.value = value;
      apply();
    }
    return {
      onlySeverity(severity) {
        severities.forEach((box) => { box.checked = box.value === severity; });
        apply();
      },
      rule: (code) => select(rule, code),
      namespace: (value) => select(namespace, value),
    };
  }

  function ruleDocs() {
    const open = (id) => {
      const doc = document.getElementById(id);
      if (doc && doc.tagName === "DETAILS") doc.open = true;
    };
    $$("a[data-doc]").forEach((link) => link.addEventListener("click", () => open(link.dataset.doc)));
    if (location.hash.startsWith("#rule-")) open(location.hash.slice(1));
  }

  function summaryLinks(filters) {
    if (!filters) return;
    $$("[data-only-severity]").forEach((card) => card.addEventListener("click", () => {
      filters.onlySeverity(card.dataset.onlySeverity);
      $("#findings").scrollIntoView();
    }));
    $$("[data-filter-rule]").forEach((link) => link.addEventListener("click", () => filters.rule(link.dataset.filterRule)));
    $$("[data-filter-namespace]").forEach((link) => link.addEventListener("click",
      () => filters.namespace(link.dataset.filterNamespace)));
  }

  // --- call graph ------------------------------------------------------------------------------

  const FAR = 0.55; // below this scale the edge labels are hidden
  const CLOSEST_FIT = 1.25; // a small graph is shown whole at most this much enlarged

  function callGraph() {
    const viewport = $("#graph-viewport");
    const svg = $("#graph-svg");
    if (!viewport || !svg) return null;
    const geometry = {};
    ["row", "nodeHeight", "margin", "laneGap", "laneHeader", "bar", "width"].forEach((key) => {
      geometry[key] = Number(svg.dataset[key]);
    });
    const info = $("#graph-info");
    const pathButtons = $$(".paths button");
    let box = null; // the viewBox {x, y, w, h}

    // lanes, nodes and edges with their geometry, once
    const lanes = $$(".lane", svg).map((el) => ({
      el, rect: el.querySelector("rect"), name: el.querySelector(".lane-name"), count: el.querySelector(".lane-count"),
      toggle: el.querySelector(".toggle"), top0: Number(el.dataset.top), height0: Number(el.dataset.height),
      top: Number(el.dataset.top), collapsed: false,
    }));
    const laneById = new Map(lanes.map((lane) => [lane.el.id, lane]));
    const nodes = new Map($$(".node", svg).map((el) => [el.id, {
      el, lane: laneById.get(el.dataset.lane), x: Number(el.dataset.x), y0: Number(el.dataset.y), y: Number(el.dataset.y),
      width: Number(el.querySelector("rect").getAttribute("width")), out: [], in: [],
    }]));
    const labels = new Map($$(".edge-labels text", svg).map((el) => [el.dataset.edge, el]));
    const edges = $$(".edge", svg).map((el) => {
      const edge = { el, from: nodes.get(el.dataset.from), to: nodes.get(el.dataset.to), backward: el.hasAttribute("data-backward"),
        label: labels.get(el.id) };
      edge.t = Number(edge.label.dataset.t);
      edge.shift = Number(edge.label.dataset.shift || 0);
      edge.from.out.push(edge);
      edge.to.in.push(edge);
      return edge;
    });
    const edgeById = new Map(edges.map((edge) => [edge.el.id, edge]));

    // Collapsing lanes moves the lanes below and redraws the edges from their ends, with the
    // curves of graph/layout.py: x never changes, so each label keeps its place along its curve.
    function relayout() {
      let top = geometry.margin;
      lanes.forEach((lane) => {
        const height = lane.collapsed ? geometry.bar : lane.height0;
        lane.top = top;
        lane.rect.setAttribute("y", top);
        lane.rect.setAttribute("height", height);
        lane.name.setAttribute("y", top + 17);
        lane.count.setAttribute("y", top + 33);
        lane.toggle.textContent = lane.collapsed ? "▸ " : "▾ ";
        lane.el.classList.toggle("collapsed", lane.collapsed);
        top += height + geometry.laneGap;
      });
      nodes.forEach((node) => {
        node.el.toggleAttribute("hidden", node.lane.collapsed);
        node.y = node.lane.top + node.y0 - node.lane.top0;
        if (!node.lane.collapsed) node.el.setAttribute("transform", `translate(${node.x},${node.y})`);
      });
      const middle = (n) => (n.lane.collapsed ? n.lane.top + geometry.bar / 2 : n.y + geometry.nodeHeight / 2);
      const bottom = (n) => (n.lane.collapsed ? n.lane.top + geometry.bar : n.y + geometry.nodeHeight);
      edges.forEach((edge) => {
        const a = edge.from;
        const b = edge.to;
        const inside = a.lane === b.lane && a.lane.collapsed;
        edge.el.toggleAttribute("hidden", inside);
        edge.label.toggleAttribute("hidden", a.lane.collapsed || b.lane.collapsed);
        if (inside) return;
        let p;
        if (edge.backward) {
          const sx = a.x + a.width / 2, sy = bottom(a), ex = b.x + b.width / 2, ey = bottom(b);
          const drop = Math.max(sy, ey) + geometry.row;
          p = [sx, sy, sx, drop, ex, drop, ex, ey];
        } else {
          const sx = a.x + a.width, sy = middle(a), ex = b.x, ey = middle(b), reach = (ex - sx) / 2;
          p = [sx, sy, sx + reach, sy, ex - reach, ey, ex, ey];
        }
        p = p.map((v) => Math.round(v * 10) / 10);
        edge.el.setAttribute("d", `M${p[0]},${p[1]}C${p[2]},${p[3]} ${p[4]},${p[5]} ${p[6]},${p[7]}`);
        const t = edge.t, u = 1 - t;
        const y = u * u * u * p[1] + 3 * u * u * t * p[3] + 3 * u * t * t * p[5] + t * t * t * p[7] + edge.shift;
        edge.label.setAttribute("y", Math.round((y - 3) * 10) / 10);
      });
      geometry.height = top - geometry.laneGap + geometry.margin;
    }

    function setLanes(which, collapsed) {
      which.forEach((lane) => { lane.collapsed = collapsed; });
      relayout();
    }

    function expandFor(ids) {
      const closed = ids.map((id) => nodes.get(id)).filter((n) => n && n.lane.collapsed).map((n) => n.lane);
      if (closed.length) setLanes(closed, false);
    }

    // the view: a viewBox with the viewport's proportions
    function size() {
      return { w: viewport.clientWidth || 1, h: viewport.clientHeight || 1 };
    }

    function show(viewBox) {
      box = viewBox;
      svg.setAttribute("viewBox", `${viewBox.x} ${viewBox.y} ${viewBox.w} ${viewBox.h}`);
      svg.classList.toggle("far", size().w / viewBox.w < FAR);
    }

    function around(x, y, w, h, margin, closest) {
      const view = size();
      const scale = Math.min(view.w / (w + 2 * margin), view.h / (h + 2 * margin), closest || Infinity);
      const bw = view.w / scale;
      const bh = view.h / scale;
      return { x: x + w / 2 - bw / 2, y: y + h / 2 - bh / 2, w: bw, h: bh };
    }

    // a drawing that is wide and short gets a viewport no taller than it needs
    function fitViewport() {
      const needed = (geometry.height + 20) * Math.min(viewport.clientWidth / (geometry.width + 20), CLOSEST_FIT);
      viewport.style.height = "";
      if (needed < viewport.clientHeight) viewport.style.height = `${Math.max(needed, 320)}px`;
    }

    function fit() {
      fitViewport();
      const whole = around(0, 0, geometry.width, geometry.height, 10, CLOSEST_FIT);
      const view = size();
      if (view.w / whole.w < FAR && geometry.width < geometry.height) {
        // much taller than the viewport: open at a readable size, from the top
        const scale = Math.max(view.w / (geometry.width + 20), FAR);
        show({ x: -10, y: -10, w: view.w / scale, h: view.h / scale });
      } else {
        show(whole);
      }
    }

    function zoom(factor, cx, cy) {
      const view = size();
      const px = cx === undefined ? 0.5 : cx / view.w;
      const py = cy === undefined ? 0.5 : cy / view.h;
      const w = box.w / factor;
      const h = box.h / factor;
      show({ x: box.x + (box.w - w) * px, y: box.y + (box.h - h) * py, w, h });
    }

    function focusOn(ids, margin) {
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      ids.map((id) => nodes.get(id)).filter(Boolean).forEach((n) => {
        x0 = Math.min(x0, n.x); y0 = Math.min(y0, n.y);
        x1 = Math.max(x1, n.x + n.width); y1 = Math.max(y1, n.y + geometry.nodeHeight);
      });
      if (!isFinite(x0)) return;
      show(around(x0, y0, x1 - x0, y1 - y0, margin, 1.6));
    }

    // selection: a node and its neighbours, or a path; the rest fades
    function clear() {
      svg.classList.remove("focus");
      $$(".on, .picked", svg).forEach((el) => el.classList.remove("on", "picked"));
      pathButtons.forEach((button) => button.classList.remove("on"));
      info.hidden = true;
    }

    function light(nodeIds, edgeIds) {
      svg.classList.add("focus");
      nodeIds.forEach((id) => nodes.get(id).el.classList.add("on"));
      edgeIds.forEach((id) => {
        const edge = edgeById.get(id);
        edge.el.classList.add("on");
        edge.label.classList.add("on");
      });
    }

    function describe(node) {
      info.replaceChildren();
      const title = document.createElement("h4");
      title.textContent = node.el.dataset.name;
      const meta = document.createElement("div");
      meta.className = "meta";
      meta.textContent = node.el.querySelector("title").textContent;
      info.append(title, meta);
      [["calls", node.out, "to"], ["called by", node.in, "from"]].forEach(([what, list, end]) => {
        if (!list.length) return;
        const head = document.createElement("div");
        head.textContent = `${what} (${list.length})`;
        const items = document.createElement("ul");
        list.forEach((edge) => {
          const item = document.createElement("li");
          item.textContent = `${edge[end].el.dataset.name}: ${edge.label.textContent}`;
          item.title = edge.el.querySelector("title").textContent;
          items.append(item);
        });
        info.append(head, items);
      });
      info.hidden = false;
    }

    function pickNode(id, zoomTo) {
      const node = nodes.get(id);
      if (!node) return;
      expandFor([id]);
      clear();
      const touching = node.out.concat(node.in);
      light([id].concat(touching.map((e) => e.from.el.id), touching.map((e) => e.to.el.id)),
        touching.map((e) => e.el.id));
      node.el.classList.add("picked");
      describe(node);
      if (zoomTo) focusOn([id], 140);
    }

    function pickPath(button) {
      const ids = button.dataset.nodes.split(" ");
      expandFor(ids);
      clear();
      light(ids, button.dataset.edges.split(" ").filter(Boolean));
      button.classList.add("on");
      focusOn(ids, 40);
    }

    // pointer: drag to move, wheel to zoom, click a box to pick it, a namespace's name to fold it
    let drag = null;
    viewport.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      drag = { x: event.clientX, y: event.clientY, box: { ...box }, moved: false, target: event.target };
      viewport.setPointerCapture(event.pointerId);
    });
    viewport.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const dx = event.clientX - drag.x;
      const dy = event.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      drag.moved = true;
      viewport.classList.add("dragging");
      const scale = size().w / drag.box.w;
      show({ x: drag.box.x - dx / scale, y: drag.box.y - dy / scale, w: drag.box.w, h: drag.box.h });
    });
    viewport.addEventListener("pointerup", (event) => {
      if (drag && !drag.moved) {
        const target = drag.target;
        const node = target.closest(".node");
        const lane = target.closest(".lane");
        const r = viewport.getBoundingClientRect();
        const x = box.x + (event.clientX - r.left) * box.w / size().w;
        if (node) pickNode(node.id, false);
        else if (lane && (laneById.get(lane.id).collapsed || x < geometry.margin + geometry.laneHeader)) {
          const picked = laneById.get(lane.id);
          setLanes([picked], !picked.collapsed);
        } else clear();
      }
      drag = null;
      viewport.classList.remove("dragging");
    });
    viewport.addEventListener("wheel", (event) => {
      event.preventDefault();
      const r = viewport.getBoundingClientRect();
      zoom(Math.pow(1.0015, -event.deltaY), event.clientX - r.left, event.clientY - r.top);
    }, { passive: false });

    $$("[data-zoom]").forEach((button) => button.addEventListener("click", () => {
      const how = button.dataset.zoom;
      if (how === "fit") fit();
      else zoom(how === "in" ? 1.4 : 1 / 1.4);
    }));
    $$("[data-lanes]").forEach((button) => button.addEventListener("click", () => {
      clear();
      setLanes(lanes, button.dataset.lanes === "collapse");
      fit();
    }));
    pathButtons.forEach((button) => button.addEventListener("click", () => pickPath(button)));

    const search = $("#graph-search");
    search.addEventListener("change", () => {
      const wanted = search.value.trim().toLowerCase();
      if (!wanted) return;
      const all = Array.from(nodes.values());
      const found = all.find((n) => n.el.dataset.name.toLowerCase() === wanted)
        || all.find((n) => n.el.dataset.name.toLowerCase().includes(wanted));
      if (found) pickNode(found.el.id, true);
    });

    setLanes(lanes, svg.dataset.collapsed === "all");
    fit();
    window.addEventListener("resize", fit);
    return {
      showNode(id) { pickNode(id, true); viewport.scrollIntoView({ block: "center" }); },
      showPath(id) {
        const button = document.getElementById(id);
        if (button) { pickPath(button); viewport.scrollIntoView({ block: "center" }); }
      },
    };
  }

  function graphLinks(graph) {
    if (!graph) return;
    $$("[data-show-node]").forEach((link) => link.addEventListener("click", (event) => {
      event.preventDefault();
      graph.showNode(link.dataset.showNode);
    }));
    $$("[data-show-path]").forEach((link) => link.addEventListener("click", (event) => {
      event.preventDefault();
      graph.showPath(link.dataset.showPath);
    }));
  }

  summaryLinks(findingFilters());
  ruleDocs();
  graphLinks(callGraph());
  // the tests read when the page became usable
  window.meshlintReady = performance.now();
})();
