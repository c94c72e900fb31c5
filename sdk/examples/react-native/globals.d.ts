/** React Native's console (its own types, @types/react-native, declare it in an app). */
declare const console: { log(...data: unknown[]): void };
