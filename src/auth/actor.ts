/** Who is calling: established from a verified token, carried into every service call. */
export interface Actor {
  tenantId: string;
  userId: string;
  /** `roles` in the token contains `admin`: a tenant administrator. */
  isAdmin: boolean;
  /** SourceLoop-style permission strings, for dialects that need them. */
  permissions: string[];
  /** Profile hints for just-in-time provisioning. */
  profile: { username: string | null; displayName: string | null };
}
