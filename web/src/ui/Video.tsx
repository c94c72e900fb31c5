import { useEffect, useRef } from 'preact/hooks';

/** A muted, inline <video> showing one track (inline matters on iOS and in WeChat). */
export function Video({ track, mirror, label }: { track: MediaStreamTrack; mirror?: boolean; label?: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.srcObject = new MediaStream([track]);
    el.play().catch(() => undefined); // muted video may always play; a refusal only delays it
    return () => {
      el.srcObject = null;
    };
  }, [track]);
  return <video ref={ref} class={mirror ? 'mirror' : undefined} autoPlay playsInline muted aria-label={label} />;
}
