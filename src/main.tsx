// Page entry: start the engine Worker, render the studio, then boot (GPU init + one self-test).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App.tsx';
import { EngineClient } from './ui/engine-client.ts';
import { attachStepThrough } from './ui/step-through.ts';
import { useStudio } from './ui/store.ts';
import './ui/styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// Booted here rather than in an effect: StrictMode runs effects twice, and there is one engine per page.
const engine = new EngineClient();
attachStepThrough(engine);
void useStudio.getState().boot(engine);
