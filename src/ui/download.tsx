// Saving what the Worker hands back (checkpoints, exports) through the browser's download manager.
import { useEffect, useState, type ReactNode } from 'react';

/** Hands a blob to the browser's download manager under `name`. */
export function saveBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  // The download has taken its reference by the next task; a minute is plenty.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A link to a blob, its object URL held only while the link is on the page. */
export function DownloadLink({ name, blob, children }: { name: string; blob: Blob; children: ReactNode }) {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    const u = URL.createObjectURL(blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob]);
  return (
    <a href={url} download={name}>
      {children}
    </a>
  );
}
