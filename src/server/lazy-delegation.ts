/**
 * Every public member of the web class a lazy object stands in for that it does not answer
 * itself is answered by the real object, built on first need. Only the class's public
 * prototype is read: nothing of undici's private state is touched, so an undici that keeps
 * it in private fields (Node 24 on) changes nothing here.
 */
export function delegateToReal<Lazy extends object>(
  lazyClass: { prototype: Lazy },
  realClass: { prototype: object },
  materialize: (lazy: Lazy) => object,
): void {
  const lazyPrototype = lazyClass.prototype;
  const answered = new Set<PropertyKey>(Reflect.ownKeys(lazyPrototype));
  for (const key of Reflect.ownKeys(realClass.prototype)) {
    if (answered.has(key) || key === Symbol.toStringTag) continue;
    const descriptor = Object.getOwnPropertyDescriptor(realClass.prototype, key)!;
    if (typeof descriptor.value === "function") {
      const method = descriptor.value as (...args: unknown[]) => unknown;
      Object.defineProperty(lazyPrototype, key, {
        value(this: Lazy, ...args: unknown[]) {
          return method.apply(materialize(this), args);
        },
        writable: true,
        configurable: true,
      });
    } else if (descriptor.get) {
      const getter = descriptor.get;
      Object.defineProperty(lazyPrototype, key, {
        get(this: Lazy) {
          return getter.call(materialize(this));
        },
        configurable: true,
      });
    }
  }
  Object.setPrototypeOf(lazyPrototype, realClass.prototype);
}
