// The shape of a resource or extension definition: pure data, in the spirit of neutron-lib's
// api/definitions. The API layer derives validation, visibility, filters, sorting and
// /v2.0/extensions from these; the DB layer derives columns from `storage`.

/** Names a validator of src/validation/validators.ts, with its argument. */
export interface ValidateSpec {
  type: string;
  arg?: unknown;
}

/** Where an attribute lives. Default: a column named after the attribute. */
export type Storage =
  | { kind: 'column'; column?: string }
  /** Structured value kept as JSON text in a column. */
  | { kind: 'json'; column?: string }
  /** Computed or joined by the plugin (fixed_ips, tags, subnets of a network …). */
  | { kind: 'virtual' };

export interface AttributeDef {
  allowPost: boolean;
  allowPut: boolean;
  isVisible: boolean;
  /** Usable as a list filter (`?attr=value`). */
  isFilter?: boolean;
  /** Usable as `sort_key`. */
  isSort?: boolean;
  /** Absent = required on POST (when allowPost). `UNSET` = the server computes it. */
  default?: unknown;
  /** Converter name (src/validation/converters.ts), applied before validation. */
  convertTo?: string;
  /** Converter used on filter values, when it differs from convertTo. */
  convertFilterTo?: string;
  validate?: ValidateSpec;
  /** Setting it (POST/PUT) and seeing it needs admin (policy rule admin_only). */
  adminOnly?: boolean;
  /** Setting it needs admin, seeing it does not. */
  adminOnlyWrite?: boolean;
  storage?: Storage;
  /** Rendered as a JSON string although stored as a number (Neutron's subnet pool prefix lengths). */
  renderAsString?: boolean;
}

export const UNSET: unique symbol = Symbol('ATTR_NOT_SPECIFIED');

/** The value of an attribute an object does not have at all, which responses leave out rather
 * than show as null (a multi-segment network has `segments` but no provider:* keys). */
export const ABSENT: unique symbol = Symbol('ATTR_ABSENT');

export type AttributeMap = Record<string, AttributeDef>;

export interface ResourceDef {
  /** Collection name as in JSON (`networks`, `security_groups`). */
  collection: string;
  /** Member name as in JSON (`network`). */
  member: string;
  /** URL path segment(s) after /v2.0/ (`networks`, `security-groups`). */
  path: string;
  table: string;
  attributes: AttributeMap;
  /** Has description, revision_number, timestamps. */
  standardAttrs: boolean;
  /** Supports the /tags sub-resource and tag filters. */
  taggable: boolean;
  /** Bulk POST allowed. */
  allowBulk: boolean;
  /** Native pagination enabled. */
  allowPagination: boolean;
  allowSorting: boolean;
  /** Resource-specific member actions: PUT /{id}/{action}. */
  memberActions?: string[];
}

export interface ExtensionDef {
  alias: string;
  name: string;
  description: string;
  updated: string;
  /** Attributes this extension adds to existing resources, by collection. */
  attributes?: Record<string, AttributeMap>;
  /** Resources this extension brings. */
  resources?: ResourceDef[];
  requiredExtensions?: string[];
}
