/** One modal dialog at a time: confirm (yes/no) or prompt (a validated name), awaited as a promise. */
export interface DialogRequest {
  title: string;
  message?: string;
  confirmLabel: string;
  danger?: boolean;
  /** Present for a prompt: the initial text and a validator returning an error message or null. */
  input?: { value: string; label: string; validate: (v: string) => string | null };
  resolve: (value: string | null) => void;
}

/** The open dialog, rendered by Dialog.svelte. */
export const dialog = $state<{ current: DialogRequest | null }>({ current: null });

function open(req: Omit<DialogRequest, 'resolve'>): Promise<string | null> {
  dialog.current?.resolve(null);
  return new Promise((resolve) => {
    dialog.current = {
      ...req,
      resolve: (v) => {
        dialog.current = null;
        resolve(v);
      },
    };
  });
}

/** Asks a yes/no question; resolves true on confirm. */
export async function confirmDialog(title: string, message: string, confirmLabel: string, danger = false): Promise<boolean> {
  return (await open({ title, message, confirmLabel, danger })) !== null;
}

/** Asks for a value; resolves the trimmed value, or null when cancelled. */
export function promptDialog(
  title: string,
  label: string,
  value: string,
  confirmLabel: string,
  validate: (v: string) => string | null,
): Promise<string | null> {
  return open({ title, confirmLabel, input: { value, label, validate } });
}
