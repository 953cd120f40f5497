import type { KeyObject } from 'node:crypto';
export declare function isScalarCanonical(s: Uint8Array): boolean;
export declare function isPointEncodingCanonical(p: Uint8Array): boolean;
export declare function isSmallOrderEncoding(p: Uint8Array): boolean;
export declare function publicKeyProblem(key: Uint8Array): string | null;
export declare function signatureEncodingProblem(sig: Uint8Array): string | null;
export declare function keyObjectFromRaw(key: Uint8Array): KeyObject;
export declare function strictVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, keyObject?: KeyObject): string | null;
