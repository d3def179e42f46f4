/** The native dialect: {@code /api/predict}, {@code /api/batch-predict}, {@code /api/models}, the camelCase {@code /predict}. */
@NullMarked
package dev.modserv.http.internal.nativeapi;

import org.jspecify.annotations.NullMarked;
