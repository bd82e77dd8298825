#!/bin/sh
# Chromium headless: load a local page whose script computes, sorts,
# serializes JSON and edits the DOM; print the DOM.
d=$W/chromium_$$
mkdir -p $d && cd $d || exit 1
cat > p.html <<'HTML'
<!doctype html><html><head><title>t</title></head><body><div id="o">static</div>
<script>
let s = 0; for (let i = 0; i < 100000; i++) s += i % 7;
const a = [5, 3, 9, 1].sort((x, y) => x - y);
document.getElementById("o").textContent = "js " + s + " " + a.join(",") + " " + JSON.stringify({k: Math.sqrt(2)});
const d = document.createElement("p"); d.textContent = [..."héllo"].reverse().join(""); document.body.appendChild(d);
</script></body></html>
HTML
HOME=$d chromium --headless --no-sandbox --disable-gpu --dump-dom file://$d/p.html 2> /dev/null
echo "chromium exit $?"
cd / && rm -rf $d
