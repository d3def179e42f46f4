package dev.modserv.http.internal.nativeapi;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.SerializedString;
import dev.modserv.api.DataType;
import dev.modserv.api.InferenceResult;
import dev.modserv.api.Tensor;
import dev.modserv.api.Timings;
import dev.modserv.core.ModelProcessing;
import dev.modserv.http.internal.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Writes a result as the native API answers it: one output as its value, several as an object by
 * name, each as nested arrays, except a top-k answer ({@link ModelProcessing#SCORES_SUFFIX}),
 * written per row as {@code [{"index", "label"?, "score"}, ...]} best first, the classes a threshold
 * dropped left out.
 */
final class Predictions {
  private Predictions() {}

  // Quoted and encoded once: every predict answer writes them.
  private static final SerializableString PREPROCESSING_US =
      new SerializedString("preprocessing_us");
  private static final SerializableString INFERENCE_US = new SerializedString("inference_us");
  private static final SerializableString POSTPROCESSING_US =
      new SerializedString("postprocessing_us");

  /** Writes the outputs; {@code topK} says whether the processing applied answered top-k. */
  static void write(JsonGenerator g, InferenceResult result, boolean topK) throws IOException {
    Map<String, Tensor> outputs = result.outputs();
    List<String> shown = new ArrayList<>(outputs.size());
    for (String name : outputs.keySet()) {
      if (!topK || !isTopKPart(outputs, name)) {
        shown.add(name);
      }
    }
    if (shown.size() == 1) {
      writeOutput(g, outputs, shown.get(0), topK);
      return;
    }
    g.writeStartObject();
    for (String name : shown) {
      g.writeFieldName(name);
      writeOutput(g, outputs, name, topK);
    }
    g.writeEndObject();
  }

  /** Writes {@code preprocessing_us}, {@code inference_us} and {@code postprocessing_us}. */
  static void writeMicros(JsonGenerator g, Timings t) throws IOException {
    g.writeFieldName(PREPROCESSING_US);
    g.writeNumber(t.preprocessing().toNanos() / 1000);
    g.writeFieldName(INFERENCE_US);
    g.writeNumber(callNanos(t) / 1000);
    g.writeFieldName(POSTPROCESSING_US);
    g.writeNumber(t.postprocessing().toNanos() / 1000);
    writeCached(g, t);
  }

  /** Writes the camelCase timings in milliseconds. */
  static void writeMillis(JsonGenerator g, Timings t) throws IOException {
    g.writeNumberField("inferenceTimeMs", callNanos(t) / 1e6);
    g.writeNumberField("preprocessingTimeMs", t.preprocessing().toNanos() / 1e6);
    g.writeNumberField("postprocessingTimeMs", t.postprocessing().toNanos() / 1e6);
    writeCached(g, t);
  }

  /** Marks an answer the response cache gave (docs/caching.md); absent when the model ran. */
  private static void writeCached(JsonGenerator g, Timings t) throws IOException {
    if (t.cached()) {
      g.writeBooleanField("cached", true);
    }
  }

  /** The model call's time: queue and engine, without the processing around it. */
  private static long callNanos(Timings t) {
    return Math.max(0, t.total().minus(t.preprocessing()).minus(t.postprocessing()).toNanos());
  }

  /** Whether {@code name} is the scores or labels part of another output's top-k answer. */
  private static boolean isTopKPart(Map<String, Tensor> outputs, String name) {
    for (String suffix : List.of(ModelProcessing.SCORES_SUFFIX, ModelProcessing.LABELS_SUFFIX)) {
      if (name.endsWith(suffix)
          && isTopK(outputs, name.substring(0, name.length() - suffix.length()))) {
        return true;
      }
    }
    return false;
  }

  private static boolean isTopK(Map<String, Tensor> outputs, String name) {
    Tensor index = outputs.get(name);
    return index != null && index.dataType() == DataType.INT64
        && outputs.containsKey(name + ModelProcessing.SCORES_SUFFIX);
  }

  private static void writeOutput(JsonGenerator g, Map<String, Tensor> outputs, String name,
      boolean topK) throws IOException {
    Tensor t = outputs.get(name);
    if (t == null) {
      throw new IllegalStateException("no output " + name);
    }
    if (!topK || !isTopK(outputs, name)) {
      Json.writeNested(g, t);
      return;
    }
    Tensor scores = outputs.get(name + ModelProcessing.SCORES_SUFFIX);
    Tensor labels = outputs.get(name + ModelProcessing.LABELS_SUFFIX);
    long[] shape = t.shape();
    if (scores == null) {
      throw new IllegalStateException("no output " + name + ModelProcessing.SCORES_SUFFIX);
    }
    boolean single = scores.dataType() == DataType.FP32;
    TopK k = new TopK(t.toLongArray(), single ? widen(scores.toFloatArray())
        : scores.toDoubleArray(), single, labels == null ? null : labels.toStringArray(),
        (int) shape[shape.length - 1]);
    k.writeLevel(g, shape, 0, 0);
  }

  private static double[] widen(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /** A top-k answer's elements, row-major, {@code k} per row. */
  private record TopK(long[] index, double[] score, boolean singlePrecision,
      String @Nullable [] label, int k) {
    /** Writes the rows under dimension {@code depth}; returns the next row. */
    int writeLevel(JsonGenerator g, long[] shape, int depth, int row) throws IOException {
      if (depth == shape.length - 1) {
        writeRow(g, row);
        return row + 1;
      }
      g.writeStartArray();
      int next = row;
      for (long i = 0; i < shape[depth]; i++) {
        next = writeLevel(g, shape, depth + 1, next);
      }
      g.writeEndArray();
      return next;
    }

    private void writeRow(JsonGenerator g, int row) throws IOException {
      g.writeStartArray();
      for (int j = row * k; j < (row + 1) * k; j++) {
        if (index[j] < 0) {
          continue; // dropped by the threshold
        }
        g.writeStartObject();
        g.writeNumberField("index", index[j]);
        if (label != null) {
          g.writeStringField("label", label[j]);
        }
        if (singlePrecision) {
          g.writeNumberField("score", (float) score[j]);
        } else {
          g.writeNumberField("score", score[j]);
        }
        g.writeEndObject();
      }
      g.writeEndArray();
    }
  }
}
