// The resource contract: where a host artifact lives, and what should be there given
// what is there now. The planner, not the resource, decides create, update or delete.

export interface Owner {
  uid: number;
  gid: number;
}

/** A file kib renders whole, or a shared file it merges its entries into. */
export interface FileResource {
  kind: 'file';
  /** Host path (as on the target host, without the root prefix). */
  path: string;
  /** 'host' for host-wide resources, else the VM it belongs to; commands on one VM plan only its own. */
  scope: string;
  /** The content that should be there given the current content (null when absent); null removes the file. */
  desired(current: string | null): string | null;
  mode: number;
  owner: Owner;
  /** A real tool that checks a candidate before it replaces the live file. */
  validator?: Validator;
}

/** A directory kib creates for a VM (its home). */
export interface DirResource {
  kind: 'dir';
  path: string;
  scope: string;
  /** Whether it should exist. Removal deletes it only if `owner` still owns it. */
  present: boolean;
  mode: number;
  owner: Owner;
}

export type Resource = FileResource | DirResource;

export interface Validator {
  /** The program, looked up in PATH and the sbin directories; skipped when not installed. */
  tool: string;
  /** Arguments for checking the candidate file. */
  args(candidate: string): string[];
  /** Output that means the check could not run here (say, no host keys), not that the file is bad. */
  inconclusive?: RegExp;
}

export type Action = 'create' | 'update' | 'delete' | 'unchanged';

/** What the planner found for one resource. */
export interface Change {
  resource: Resource;
  action: Action;
  before: string | null;
  after: string | null;
  /** Content is the same but mode or owner differ. */
  attributesOnly?: boolean;
}

export const ROOT_OWNER: Owner = { uid: 0, gid: 0 };
