import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes, TextareaHTMLAttributes } from "react";

const control =
  "block w-full rounded-md border-0 bg-white px-3 py-2 text-sm text-slate-900 ring-1 ring-inset ring-slate-300 placeholder:text-slate-400 focus:ring-2 focus:ring-inset focus:ring-indigo-500 aria-[invalid=true]:ring-rose-500";

/** A labelled control with its help text and its error, both tied to it for screen readers. */
export function Field({
  id,
  label,
  help,
  error,
  children,
}: {
  id: string;
  label: string;
  help?: ReactNode;
  error?: string;
  children: ReactNode;
}) {
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium text-slate-800">
        {label}
      </label>
      {children}
      <FieldNote id={id} help={help} error={error} />
    </div>
  );
}

/** A control's help line, or its error instead (announced), with the ids `describedBy` points at. */
export function FieldNote({ id, help, error }: { id: string; help?: ReactNode; error?: string }) {
  if (error) {
    return (
      <p id={`${id}-error`} className="text-xs font-medium text-rose-700" role="alert">
        {error}
      </p>
    );
  }
  return help ? (
    <p id={`${id}-help`} className="text-xs text-slate-500">
      {help}
    </p>
  ) : null;
}

export function describedBy(id: string, error?: string, help?: unknown) {
  return error ? `${id}-error` : help ? `${id}-help` : undefined;
}

export function Input({ className = "", ...props }: InputHTMLAttributes<HTMLInputElement>) {
  return <input className={`${control} ${className}`} {...props} />;
}

export function Textarea({ className = "", ...props }: TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return <textarea className={`${control} font-mono ${className}`} {...props} />;
}

export function Select({ className = "", ...props }: SelectHTMLAttributes<HTMLSelectElement>) {
  return <select className={`${control} ${className}`} {...props} />;
}
