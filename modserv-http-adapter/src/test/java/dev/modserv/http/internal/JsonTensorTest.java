package dev.modserv.http.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonParser;
import dev.modserv.api.DataType;
import dev.modserv.api.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The JSON array reader: shapes from the nesting, typed arrays, and a 400 naming each bad part. */
class JsonTensorTest {
  private static JsonTensor read(String json) throws IOException {
    try (JsonParser p = Json.parser(json.getBytes(StandardCharsets.UTF_8))) {
      p.nextToken();
      return JsonTensor.read(p, "inputs");
    }
  }

  private static Tensor tensor(String json, DataType type) throws IOException {
    JsonTensor t = read(json);
    return t.toTensor(type, t.shape(), "inputs");
  }

  /** Asserts that reading {@code json} as {@code type} is a 400 whose message starts so. */
  private static void refused(String json, DataType type, String message) {
    assertThatThrownBy(() -> tensor(json, type)).isInstanceOf(HttpError.class)
        .satisfies(e -> assertThat(((HttpError) e).status()).isEqualTo(400))
        .hasMessageStartingWith(message);
  }

  @Test
  void numbersBecomeTheInputsTypeWithTheNestingsShape() throws Exception {
    Tensor f = tensor("[[0.5,-0.25],[1,0.75]]", DataType.FP32);
    assertThat(f.shape()).containsExactly(2, 2);
    assertThat(f.toFloatArray()).containsExactly(0.5f, -0.25f, 1f, 0.75f);
    assertThat(tensor("[[1,2,3]]", DataType.INT32).toIntArray()).containsExactly(1, 2, 3);
    assertThat(tensor("[-128,127]", DataType.INT8).toByteArray()).containsExactly(-128, 127);
    assertThat(tensor("[0,255]", DataType.UINT8).toByteArray()).containsExactly(0, -1);
    assertThat(tensor("[-32768,32767]", DataType.INT16).toShortArray())
        .containsExactly((short) -32768, (short) 32767);
    assertThat(tensor("[0.1,2]", DataType.FP64).toDoubleArray()).containsExactly(0.1, 2.0);
    assertThat(tensor("[[true],[false]]", DataType.BOOL).toBooleanArray())
        .containsExactly(true, false);
    assertThat(tensor("[\"a\",\"b\"]", DataType.STRING).toStringArray()).containsExactly("a", "b");
  }

  @Test
  void integersPastADoublesPrecisionStayExactAndLongArraysGrow() throws Exception {
    // 2^53 + 1 is not a double: INT64 keeps the integer as sent.
    assertThat(tensor("[9007199254740993,-9223372036854775808,9223372036854775807]",
        DataType.INT64).toLongArray())
        .containsExactly(9007199254740993L, Long.MIN_VALUE, Long.MAX_VALUE);
    String forty = IntStream.range(0, 40).mapToObj(Integer::toString)
        .collect(Collectors.joining(",", "[", "]"));
    assertThat(tensor(forty, DataType.INT64).toLongArray())
        .containsExactly(IntStream.range(0, 40).asLongStream().toArray());
    assertThat(tensor(forty, DataType.FP32).toFloatArray()[39]).isEqualTo(39f);
  }

  @Test
  void aFractionAnywhereIsRefusedForIntegerTypesButNotForFloats() throws Exception {
    refused("[1,2,2.5]", DataType.INT64, "inputs: expected INT64 integers, got a number with a"
        + " fraction");
    refused("[2.5,1,2]", DataType.INT32, "inputs: expected INT32 integers");
    assertThat(tensor("[1,2,2.5]", DataType.FP32).toFloatArray()).containsExactly(1f, 2f, 2.5f);
  }

  @Test
  void wrongElementKindsAreRefusedNamingTheElement() {
    refused("[1,2,\"3\"]", DataType.FP32, "inputs[2]: mixed element kinds: expected number, got"
        + " string");
    refused("[[1],[true]]", DataType.FP32, "inputs[1][0]: mixed element kinds");
    refused("[1,{\"a\":1}]", DataType.FP32, "inputs[1]: expected a number, boolean or string, got"
        + " an object");
    refused("[null]", DataType.FP32, "inputs[0]: expected a number, boolean or string, got null");
    refused("[\"a\"]", DataType.FP32, "inputs: expected FP32 numbers, got strings");
    refused("[1]", DataType.BOOL, "inputs: expected BOOL elements (true or false), got numbers");
    refused("[true]", DataType.STRING, "inputs: expected strings, got booleans");
    refused("[1]", DataType.FP16, "inputs: FP16 cannot be sent as JSON numbers");
    assertThatThrownBy(() -> JsonTensor.read(parserAt("{\"a\":1}"), "inputs"))
        .isInstanceOf(HttpError.class).hasMessage("inputs: expected an array, got an object");
  }

  @Test
  void numbersOutOfTheTypesRangeAreRefusedNeverWrapped() {
    refused("[1," + "9".repeat(30) + "]", DataType.INT64, "inputs[1]: integer out of range: ");
    refused("[1e39]", DataType.FP32, "inputs: element 0 = 1.0E39 is out of range for FP32");
    refused("[1,1e309]", DataType.FP64, "inputs: element 1 = Infinity is out of range for FP64");
    refused("[2147483648]", DataType.INT32, "inputs: element 0 = 2147483648 is out of range for"
        + " INT32");
    refused("[128]", DataType.INT8, "inputs: element 0 = 128 is out of range for INT8");
    refused("[-1]", DataType.UINT8, "inputs: element 0 = -1 is out of range for UINT8");
    refused("[40000]", DataType.INT16, "inputs: element 0 = 40000 is out of range for INT16");
  }

  @Test
  void nanAndInfinityAreNotJson() {
    // As before: Jackson refuses the tokens, and the exchange answers malformed JSON with a 400.
    for (String bad : new String[] {"[NaN]", "[Infinity]", "[-Infinity]", "[1,nan]"}) {
      assertThatThrownBy(() -> tensor(bad, DataType.FP32)).as(bad).isInstanceOf(IOException.class);
    }
  }

  @Test
  void raggedArraysAreRefusedNamingTheFirstBadPart() {
    refused("[[1,2],[3]]", DataType.FP32, "inputs[1]: ragged array: expected 2 elements, got 1");
    refused("[[[1],[2]],[[3],[4,5]]]", DataType.FP32, "inputs[1][1]: ragged array: expected 1"
        + " elements, got 2");
    refused("[[1],2]", DataType.FP32, "inputs[1]: expected an array, got a value (ragged"
        + " nesting)");
    refused("[1,[2]]", DataType.FP32, "inputs[1]: expected a value, got an array (ragged"
        + " nesting)");
    refused("[[],[1]]", DataType.FP32, "inputs[1][0]: expected an array, got a value (ragged"
        + " nesting)");
  }

  @Test
  void emptyArraysHaveAZeroDimension() throws Exception {
    assertThat(read("[]").shape()).containsExactly(0);
    assertThat(read("[[],[]]").shape()).containsExactly(2, 0);
    Tensor empty = tensor("[[],[]]", DataType.FP32);
    assertThat(empty.elementCount()).isZero();
    assertThat(empty.shape()).containsExactly(2, 0);
    assertThat(tensor("[]", DataType.STRING).elementCount()).isZero();
  }

  @Test
  void deepNestingIsRefusedByTheShapeCheckOrTheParser() {
    // 65 levels: read, then refused as a shape of more than 64 dimensions.
    String deep = "[".repeat(65) + "1" + "]".repeat(65);
    refused(deep, DataType.FP32, "inputs: a shape has at most 64 dimensions, got 65");
    // Past Jackson's nesting limit the parser refuses it before anything grows without bound.
    String deeper = "[".repeat(5000) + "1" + "]".repeat(5000);
    assertThatThrownBy(() -> tensor(deeper, DataType.FP32)).isInstanceOf(IOException.class)
        .hasMessageContaining("nesting depth");
  }

  @Test
  void theElementCountMustFillTheShapeAndTheShapeCannotOverflow() throws Exception {
    JsonTensor two = read("[1,2]");
    assertThatThrownBy(() -> two.toTensor(DataType.FP32, new long[] {3}, "inputs"))
        .isInstanceOf(HttpError.class).hasMessage("inputs: shape [3] holds 3 elements, got 2");
    assertThatThrownBy(() -> two.toTensor(DataType.FP32, new long[] {1L << 40, 1L << 40},
        "inputs")).isInstanceOf(HttpError.class).hasMessageContaining("is too large");
    assertThat(two.toTensor(DataType.FP32, new long[] {1, 2}, "inputs").shape())
        .containsExactly(1, 2);
  }

  private static JsonParser parserAt(String json) throws IOException {
    JsonParser p = Json.parser(json.getBytes(StandardCharsets.UTF_8));
    p.nextToken();
    return p;
  }
}
