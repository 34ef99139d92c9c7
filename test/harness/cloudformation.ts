/** Reading synthesized CloudFormation in tests: intrinsics flattened to readable strings. */
export type Intrinsic = string | number | boolean | { [fn: string]: unknown } | Intrinsic[];

export interface CfnResource {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form JSON.
  Properties: Record<string, any>;
  Metadata?: Record<string, unknown>;
  DeletionPolicy?: string;
}

/** `{Ref: X}` → `<X>`, `{Fn::GetAtt: [X, A]}` → `<X.A>`, joins and subs resolved around them. */
export function flatten(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  if (Array.isArray(value)) return value.map(flatten).join(',');
  const [fn, arg] = Object.entries(value as Record<string, unknown>)[0] ?? [];
  switch (fn) {
    case 'Ref':
      return `<${arg}>`;
    case 'Fn::GetAtt':
      return `<${(arg as string[]).join('.')}>`;
    case 'Fn::Join': {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map(flatten).join(separator);
    }
    case 'Fn::Sub':
      return (typeof arg === 'string' ? arg : (arg as [string])[0]).replace(/\$\{([^}]+)\}/g, '<$1>');
    case 'Fn::Base64':
      return flatten(arg);
    default:
      return `<${fn}>`;
  }
}

export interface Statement {
  /** The logical id of the policy (or role) holding it. */
  policy: string;
  actions: string[];
  resources: string[];
}

/** Every Allow statement of the identity policies (IAM::Policy documents and roles' inline policies). */
export function policyStatements(resources: Record<string, CfnResource>): Statement[] {
  const out: Statement[] = [];
  const add = (policy: string, document: { Statement: Record<string, unknown>[] }) => {
    for (const s of document.Statement) {
      if (s.Effect !== 'Allow') continue;
      const list = (v: unknown) => (Array.isArray(v) ? v : [v]).map(flatten);
      out.push({ policy, actions: list(s.Action), resources: list(s.Resource) });
    }
  };
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::IAM::Policy') add(id, r.Properties.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role') for (const p of r.Properties.Policies ?? []) add(id, p.PolicyDocument);
  }
  return out;
}

const DATA_SERVICES = ['dynamodb', 'sqs', 's3', 'secretsmanager', 'execute-api', 'sns', 'kms', 'elasticache'];

/** The actions that read or write data (as opposed to, say, creating network interfaces). */
export const dataActions = (actions: string[]) =>
  actions.filter((a) => a === '*' || DATA_SERVICES.includes(a.split(':')[0]!));
