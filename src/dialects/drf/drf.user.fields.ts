import { invalid, type AppError } from '../../errors/codes.ts';
import { isRecord } from './drf.body.ts';
import type { DrfStatus } from './drf.schema.ts';

/** A serializer's refusal: the problems per field, nested for the nested `profile`, in the serializer's field order. */
export type DrfFieldErrors = Record<string, string[] | Record<string, string[]>>;

/** What a valid user body says, as DRF's `UserSerializer` would hand it to `create`/`update`. */
export interface DrfUserInput {
  profile?: { status?: DrfStatus; status_msg?: string | null };
  password?: string;
  username?: string;
  first_name?: string;
  last_name?: string;
  email?: string;
}

const REQUIRED = 'This field is required.';
const NOT_NULL = 'This field may not be null.';
const NOT_BLANK = 'This field may not be blank.';
const STATUSES: readonly DrfStatus[] = ['Online', 'Busy', 'Offline'];
/** Django's username validator, and Parley's length (Django allows 150). */
const USERNAME = /^[\p{L}\p{N}\p{M}_.@+-]+$/u;
const USERNAME_MAX = 64;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const TRUE = new Set([
  true,
  1,
  '1',
  'true',
  'True',
  'TRUE',
  't',
  'T',
  'y',
  'Y',
  'yes',
  'Yes',
  'YES',
  'on',
  'On',
  'ON',
]);
const FALSE = new Set([
  false,
  0,
  '0',
  'false',
  'False',
  'FALSE',
  'f',
  'F',
  'n',
  'N',
  'no',
  'No',
  'NO',
  'off',
  'Off',
  'OFF',
]);

/** The Python name of a JSON value's type, as DRF's messages name it. */
function pythonType(value: unknown): string {
  if (Array.isArray(value)) {
    return 'list';
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? 'int' : 'float';
  }
  return typeof value === 'boolean' ? 'bool' : typeof value === 'string' ? 'str' : 'dict';
}

type Checked<T> = { value: T } | { error: string[] };
type Outcome<T> = { value: T } | { error: string[] | Record<string, string[]> };

/** DRF's `CharField`: numbers become their text, surrounding blanks are trimmed. */
function charField(
  value: unknown,
  rules: { max: number; blank: boolean; nullable?: boolean },
): Checked<string | null> {
  if (value === null) {
    return rules.nullable ? { value: null } : { error: [NOT_NULL] };
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    return { error: ['Not a valid string.'] };
  }
  const text = String(value).trim();
  if (text === '' && !rules.blank) {
    return { error: [NOT_BLANK] };
  }
  if ([...text].length > rules.max) {
    return { error: [`Ensure this field has no more than ${rules.max} characters.`] };
  }
  return { value: text };
}

function profileField(value: unknown): Outcome<DrfUserInput['profile']> {
  if (value === null) {
    return { error: [NOT_NULL] };
  }
  if (!isRecord(value)) {
    return {
      error: { non_field_errors: [`Invalid data. Expected a dictionary, but got ${pythonType(value)}.`] },
    };
  }
  const errors: Record<string, string[]> = {};
  const profile: NonNullable<DrfUserInput['profile']> = {};
  if (value.status !== undefined && value.status !== null && value.status !== '') {
    if (typeof value.status === 'string' && (STATUSES as readonly string[]).includes(value.status)) {
      profile.status = value.status as DrfStatus;
    } else {
      errors.status = [`"${String(value.status)}" is not a valid choice.`];
    }
  } else if (value.status !== undefined) {
    // Blank or null (the model allows both): shown as the model's default.
    profile.status = 'Offline';
  }
  if (value.status_msg !== undefined) {
    const text = charField(value.status_msg, { max: 255, blank: true, nullable: true });
    if ('error' in text) {
      errors.status_msg = text.error;
    } else {
      profile.status_msg = text.value;
    }
  }
  return Object.keys(errors).length > 0 ? { error: errors } : { value: profile };
}

function booleanField(value: unknown): string[] | null {
  return TRUE.has(value as never) || FALSE.has(value as never) ? null : ['Must be a valid boolean.'];
}

/**
 * DRF's `UserSerializer` validation of a body: `profile`, `password` and `username` required (unless `partial`,
 * for PATCH), the model's lengths, Django's username and e-mail validators. Throws the field errors, all of them at
 * once, as DRF does.
 */
export function readUserBody(body: unknown, partial: boolean): DrfUserInput {
  if (!isRecord(body)) {
    throw fieldErrors({
      non_field_errors: [`Invalid data. Expected a dictionary, but got ${pythonType(body)}.`],
    });
  }
  const errors: DrfFieldErrors = {};
  const input: DrfUserInput = {};
  const present = (name: string): boolean => body[name] !== undefined;
  const need = (name: string): boolean => {
    if (!present(name) && !partial) {
      errors[name] = [REQUIRED];
    }
    return present(name);
  };
  if (need('profile')) {
    const profile = profileField(body.profile);
    if ('error' in profile) {
      errors.profile = profile.error;
    } else {
      input.profile = profile.value!;
    }
  }
  if (need('password')) {
    const password = charField(body.password, { max: 128, blank: false });
    if ('error' in password) {
      errors.password = password.error;
    } else {
      input.password = password.value!;
    }
  }
  for (const flag of ['is_superuser'] as const) {
    const problem = present(flag) ? booleanField(body[flag]) : null;
    if (problem) {
      errors[flag] = problem;
    }
  }
  if (need('username')) {
    const username = charField(body.username, { max: 150, blank: false });
    if ('error' in username) {
      errors.username = username.error;
    } else if (!USERNAME.test(username.value!)) {
      errors.username = [
        'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.',
      ];
    } else if ([...username.value!].length > USERNAME_MAX) {
      errors.username = [`Ensure this field has no more than ${USERNAME_MAX} characters.`];
    } else {
      input.username = username.value!;
    }
  }
  for (const name of ['first_name', 'last_name'] as const) {
    if (present(name)) {
      const text = charField(body[name], { max: 150, blank: true });
      if ('error' in text) {
        errors[name] = text.error;
      } else {
        input[name] = text.value!;
      }
    }
  }
  if (present('email')) {
    const email = charField(body.email, { max: 254, blank: true });
    if ('error' in email) {
      errors.email = email.error;
    } else if (email.value !== '' && !EMAIL.test(email.value!)) {
      errors.email = ['Enter a valid email address.'];
    } else {
      input.email = email.value!;
    }
  }
  for (const flag of ['is_staff', 'is_active'] as const) {
    const problem = present(flag) ? booleanField(body[flag]) : null;
    if (problem) {
      errors[flag] = problem;
    }
  }
  if (Object.keys(errors).length > 0) {
    throw fieldErrors(errors);
  }
  return input;
}

/** A refusal carrying DRF's field errors as they are to be answered. */
export function fieldErrors(errors: DrfFieldErrors): AppError {
  const fields = Object.keys(errors).join(', ');
  return invalid(`invalid user fields: ${fields}`, [{ drf: errors }]);
}

/** The DRF field errors an error carries, if it is one made by `fieldErrors`. */
export function carriedFieldErrors(details: unknown[] | undefined): DrfFieldErrors | null {
  const first = details?.[0];
  return isRecord(first) && isRecord(first.drf) ? (first.drf as DrfFieldErrors) : null;
}
