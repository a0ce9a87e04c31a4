// Read by tests/web/browsing.py. Every piece of visible text on the page, with its contrast
// ratio against what is behind it (WCAG 2 relative luminance; semi-transparent colours are
// blended over the layers below), its font size, and placeholders too.
() => {
  const rgba = s => { const v = (s.match(/[\d.]+/g) || []).map(Number); return v.length === 3 ? [...v, 1] : (v.length ? v : [0, 0, 0, 0]); };
  const over = (top, bottom) => { const a = top[3]; return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]); };
  const lum = c => { const a = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
                     return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2]; };
  const page = (() => { for (const el of [document.body, document.documentElement]) { const c = rgba(getComputedStyle(el).backgroundColor); if (c[3] > 0) return over(c, [255, 255, 255, 1]); } return [255, 255, 255, 1]; })();
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor); if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let colour = layers.length && layers[layers.length - 1][3] >= 1 ? layers.pop() : page;
    while (layers.length) colour = over(layers.pop(), colour);
    return colour;
  };
  const ratio = (fg, bg) => { const a = lum(over(fg, bg)), b = lum(bg); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
  const shown = el => { const r = el.getBoundingClientRect(); if (r.width < 1 || r.height < 1) return false;
                        for (let e = el; e; e = e.parentElement) { const s = getComputedStyle(e); if (s.visibility === 'hidden' || s.display === 'none' || +s.opacity === 0) return false; } return true; };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || !node.textContent.trim() || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TITLE'].includes(el.tagName) || !shown(el)) continue;
    const s = getComputedStyle(el), bg = background(el);
    out.push({text: el.tagName + ': ' + node.textContent.trim().slice(0, 50), ratio: ratio(rgba(s.color), bg), size: parseFloat(s.fontSize)});
  }
  for (const el of document.querySelectorAll('textarea[placeholder], input[placeholder]')) {
    if (!el.placeholder || el.value || !shown(el)) continue;
    const s = getComputedStyle(el, '::placeholder'), bg = background(el);
    out.push({text: 'placeholder: ' + el.placeholder.slice(0, 50), ratio: ratio(rgba(s.color), bg), size: parseFloat(getComputedStyle(el).fontSize)});
  }
  return out;
}
