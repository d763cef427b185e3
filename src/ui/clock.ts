// A ticking clock for elapsed times shown between the Worker's notices.
import { useEffect, useState } from 'react';

/** Re-renders every second while `on`, so elapsed times tick between the Worker's events. */
export function useClock(on: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!on) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [on]);
  return now;
}
