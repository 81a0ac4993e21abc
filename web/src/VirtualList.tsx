// A windowed list with fixed row height: only the rows in view (plus a margin) are in the DOM,
// so 10,000 conversations scroll as smoothly as 10.
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface VirtualListHandle {
  scrollToIndex(i: number): void;
}

export function VirtualList(props: {
  count: number;
  rowHeight: number;
  renderRow: (index: number) => ComponentChildren;
  onEndReached?: () => void;
  overscan?: number;
  handle?: { current: VirtualListHandle | null };
  label: string;
  footer?: ComponentChildren;
}) {
  const { count, rowHeight } = props;
  const overscan = props.overscan ?? 6;
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(800);
  const frame = useRef(0);

  useLayoutEffect(() => {
    const el = box.current!;
    setHeight(el.clientHeight);
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const onScroll = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const el = box.current;
      if (el) setScrollTop(el.scrollTop);
    });
  };

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + height) / rowHeight) + overscan);

  useEffect(() => {
    if (props.onEndReached && count > 0 && last >= count - overscan * 2) props.onEndReached();
  }, [last, count]);

  if (props.handle) {
    props.handle.current = {
      scrollToIndex(i: number) {
        const el = box.current;
        if (!el) return;
        const top = i * rowHeight;
        if (top < el.scrollTop) el.scrollTop = top;
        else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - el.clientHeight;
      },
    };
  }

  const rows = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <div key={i} class="vrow" style={{ transform: `translateY(${i * rowHeight}px)`, height: rowHeight }} role="listitem" aria-setsize={count} aria-posinset={i + 1}>
        {props.renderRow(i)}
      </div>,
    );
  }
  return (
    <div class="vlist" ref={box} onScroll={onScroll} role="list" aria-label={props.label} tabIndex={-1}>
      <div class="vlist-inner" style={{ height: count * rowHeight }}>
        {rows}
      </div>
      {props.footer}
    </div>
  );
}
