package dev.modserv.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The meter names live in {@link ServingMeter}: the docs and the recorder agree with it. */
class ServingMeterTest {
  private static final Pattern ROW = Pattern.compile("^\\| `(modserv\\.[a-z.]+)` \\| ([a-z]+) \\|");

  @Test
  void docsMetricsListsExactlyTheServingMetersWithTheirTypes() throws IOException {
    Map<String, String> documented = new LinkedHashMap<>();
    for (String line : Files.readAllLines(Path.of("../docs/metrics.md"))) {
      Matcher m = ROW.matcher(line);
      if (m.find()) {
        documented.put(m.group(1), m.group(2));
      }
    }
    Map<String, String> declared = Arrays.stream(ServingMeter.values()).collect(Collectors.toMap(
        ServingMeter::meterName, m -> m.type().toString(), (a, b) -> a, LinkedHashMap::new));
    assertThat(documented).isEqualTo(declared);
  }

  @Test
  void theMicrometerRecorderRegistersExactlyTheServingMeters() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ServingMetrics metrics = ServingMetrics.micrometer(registry);
    ServingMetrics.VersionMetrics version = metrics.version("m", 1);
    // Batch and generation meters appear when the version first does either.
    version.batch(1, 1_000);
    version.generation(dev.modserv.api.FinishReason.STOP, new dev.modserv.api.Usage(1, 1),
        new dev.modserv.api.GenerationTimings(0, 0, 0, 0));
    version.generationSequences(() -> 0, () -> 0);
    metrics.error("m", dev.modserv.api.ErrorCode.TIMEOUT);
    metrics.loadFinished("m", 1, 1_000, true);
    metrics.loadedModels(() -> 1);
    metrics.cache("response", "m").size(() -> 0);
    Set<String> registered = registry.getMeters().stream().map(Meter::getId)
        .map(Meter.Id::getName)
        // SimpleMeterRegistry's own gauges of a histogram's buckets, not meters of ours.
        .filter(name -> !name.endsWith(".histogram"))
        .collect(Collectors.toSet());
    assertThat(registered).containsExactlyInAnyOrderElementsOf(
        Arrays.stream(ServingMeter.values()).map(ServingMeter::meterName).toList());
  }
}
