// Form controls shared by the panels: numbers, choices and a segmented switch.
import { useState } from 'react';

interface NumberFieldProps {
  label: string;
  testid: string;
  value: number;
  min: number;
  max: number;
  step: number;
  title?: string;
  onChange(v: number): void;
}

/** Keeps the typed text while it is being edited (empty, "0."), commits clamped numbers, tidies on blur. */
export function NumberField({ label, testid, value, min, max, step, title, onChange }: NumberFieldProps) {
  const [text, setText] = useState(String(value));
  const [editing, setEditing] = useState(false);
  const integer = Number.isInteger(step);
  return (
    <label className="field" title={title}>
      <span>{label}</span>
      <input
        type="number"
        data-testid={testid}
        // A preset may change the value from outside: show it unless the user is typing.
        value={editing ? text : String(value)}
        min={min}
        max={max}
        step={step}
        onFocus={() => {
          setText(String(value));
          setEditing(true);
        }}
        onChange={(e) => {
          setText(e.target.value);
          const v = e.target.valueAsNumber;
          if (Number.isFinite(v)) onChange(Math.min(max, Math.max(min, integer ? Math.round(v) : v)));
        }}
        onBlur={() => setEditing(false)}
      />
    </label>
  );
}

interface SelectFieldProps<T extends string> {
  label: string;
  testid: string;
  value: T;
  options: readonly T[] | readonly { value: T; label: string }[];
  title?: string;
  onChange(v: T): void;
}

/** Labels longer than this take two grid columns, so the chosen option is never cut off. */
const NARROW_LABEL = 14;

export function SelectField<T extends string>({ label, testid, value, options, title, onChange }: SelectFieldProps<T>) {
  const wide = options.some((o) => (typeof o === 'string' ? o : o.label).length > NARROW_LABEL);
  return (
    <label className={wide ? 'field wide-field' : 'field'} title={title}>
      <span>{label}</span>
      <select data-testid={testid} value={value} onChange={(e) => onChange(e.target.value as T)}>
        {options.map((o) => {
          const { value: v, label: l } = typeof o === 'string' ? { value: o, label: o } : o;
          return (
            <option key={v} value={v}>
              {l}
            </option>
          );
        })}
      </select>
    </label>
  );
}

interface SegmentedProps<T extends string> {
  label: string;
  value: T;
  options: { value: T; label: string; testid: string }[];
  onChange(v: T): void;
}

/** A row of mutually exclusive buttons (a radio group). */
export function Segmented<T extends string>({ label, value, options, onChange }: SegmentedProps<T>) {
  return (
    <div className="segmented" role="radiogroup" aria-label={label}>
      {options.map((o) => (
        <button
          key={o.value}
          role="radio"
          aria-checked={value === o.value}
          className={value === o.value ? 'active' : ''}
          data-testid={o.testid}
          onClick={() => onChange(o.value)}
        >
          {o.label}
        </button>
      ))}
    </div>
  );
}
