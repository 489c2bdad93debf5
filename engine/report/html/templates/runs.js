// Reloads the list when /api/v1/stream says a run changed.
(function () {
  var source = new EventSource("/api/v1/stream");
  var first = true;
  source.addEventListener("changed", function () {
    if (first) { first = false; return; }
    window.location.reload();
  });
})();
