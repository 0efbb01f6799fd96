// A hand-written virtual list: only the rows in view (plus a few) are in the DOM, every row
// has the same height, so scrolling through 10,000 rows, or receiving thousands a second, costs
// the same as showing thirty. `items` may be mutated in place; `version` tells the list to redraw.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';

const OVERSCAN = 6;

export function VirtualList({ items, version, rowHeight = 28, height = 420, row, label, follow = false }) {
  const box = useRef(null);
  const [top, setTop] = useState(0);
  const count = items.length;

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = count * rowHeight;
  }, [version, follow]);

  // A list that shrank under a scrolled box: draw its end until the browser's scroll event lands.
  const at = Math.min(top, Math.max(0, count * rowHeight - height));
  const first = Math.max(0, Math.floor(at / rowHeight) - OVERSCAN);
  const last = Math.min(count, Math.ceil((at + height) / rowHeight) + OVERSCAN);
  const rows = [];
  for (let i = first; i < last; i++) rows.push(row(items[i], i));

  return html`<div class="vlist" ref=${box} style=${`height:${height}px`} tabindex="0" role="region" aria-label=${label}
      onScroll=${(e) => setTop(e.currentTarget.scrollTop)}>
    <div style=${`height:${count * rowHeight}px;position:relative`}>
      <div style=${`position:absolute;top:${first * rowHeight}px;left:0;right:0`}>${rows}</div>
    </div>
  </div>`;
}
