import { describe, expect, it } from 'vitest';
import { checkJava, JavaMissingError, parseJavaMajor } from '#infra/local/dynamodb.ts';

describe('the Java check of the local runtime', () => {
  it('says exactly what to install when java is not on PATH', () => {
    let caught: unknown;
    try {
      checkJava({ PATH: '/nonexistent-elevate-test-path' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(JavaMissingError);
    const message = (caught as Error).message;
    expect(message).toContain('Java 17+ is required');
    expect(message).toContain('no `java` was found on PATH');
    expect(message).toContain('apt-get install -y openjdk-17-jre-headless');
    expect(message).toContain('brew install openjdk@17');
    expect(message).toContain('AWS_ENDPOINT_URL_DYNAMODB');
  });

  it('reads the major version of old and new version strings', () => {
    expect(parseJavaMajor('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajor('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaMajor('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaMajor('nonsense')).toBeUndefined();
  });

  it('refuses a Java older than 17 with the same advice', () => {
    const error = new JavaMissingError('version 11');
    expect(error.message).toContain('the `java` on PATH is version 11');
    expect(error.message).toContain('apt-get install -y openjdk-17-jre-headless');
  });
});
