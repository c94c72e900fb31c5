import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

interface Props {
  /** The button's accessible name and tooltip. */
  label: string;
  button: ComponentChildren;
  buttonClass?: string;
  /** Renders the menu's items; `close` closes it. */
  children(close: () => void): ComponentChildren;
  up?: boolean;
  /** Which edge of the button the menu lines up with (default right: it opens leftwards). */
  align?: 'left' | 'right';
}

/** A button that opens a small menu; Escape or a click elsewhere closes it. */
export function Menu({ label, button, buttonClass, children, up, align }: Props) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const outside = (e: Event) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    document.addEventListener('pointerdown', outside);
    document.addEventListener('keydown', onKey);
    ref.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    return () => {
      document.removeEventListener('pointerdown', outside);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);
  const close = () => setOpen(false);
  return (
    <div class="menu-wrap" ref={ref}>
      <button type="button" class={buttonClass} aria-label={label} title={label} aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)}>
        {button}
      </button>
      {open && (
        <div class={`menu${up ? ' up' : ''}${align === 'left' ? ' left' : ''}`} role="menu" aria-label={label}>
          {children(close)}
        </div>
      )}
    </div>
  );
}
