// Follows /api/v1/runs/NAME/stream: task states recolour the graph and the table, log lines
// are appended, the run's state updates its badge.
(function () {
  var data = document.getElementById("run-data");
  var name = data.dataset.name;
  var source = new EventSource("/api/v1/runs/" + encodeURIComponent(name) + "/stream?after=" + data.dataset.after);
  // classList, not className: on the graph's SVG nodes className is an SVGAnimatedString,
  // and a throw here would also leave the stream open to replay every log line on reconnect.
  function setState(el, state) {
    if (!el) return;
    Array.from(el.classList).forEach(function (c) {
      if (c.indexOf("state-") === 0) el.classList.remove(c);
    });
    el.classList.add("state-" + state);
  }
  source.addEventListener("run", function (e) {
    var run = JSON.parse(e.data);
    var badge = document.getElementById("run-state");
    badge.textContent = run.state;
    setState(badge, run.state);
    Object.keys(run.tasks || {}).forEach(function (task) {
      var t = run.tasks[task];
      setState(document.getElementById("node-" + task), t.state);
      var row = document.getElementById("task-" + task);
      if (row) {
        var b = row.querySelector(".badge");
        b.textContent = t.state;
        setState(b, t.state);
      }
    });
    if (run.final) source.close();
  });
  source.addEventListener("log", function (e) {
    var pre = document.getElementById("logs");
    JSON.parse(e.data).forEach(function (l) {
      var line = document.createElement("span");
      line.className = "line";
      line.dataset.task = l.task;
      var where = document.createElement("span");
      where.className = "where";
      where.textContent = l.task + "/" + l.step;
      line.appendChild(where);
      line.appendChild(document.createTextNode(" " + l.text + "\n"));
      pre.appendChild(line);
    });
    pre.scrollTop = pre.scrollHeight;
  });
})();
